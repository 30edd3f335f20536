"""Ingestion is idempotent and turns Rasa events into conversations and messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import (
    RasaEvent,
    event_key,
    from_broker_message,
    ingest,
    ingest_or_quarantine,
    quarantine,
    quarantine_count,
)
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Message,
    QuarantinedEvent,
    RawEvent,
    SenderKind,
)

SENDER = "5f0c1a9e-7a55-4d5e-9a43-0f1d2c3b4a59"


def user_event(text: str, ts: float, intent: str = "greet", confidence: float = 0.93) -> dict:
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "input_channel": "webchat",
        "message_id": f"m-{ts}",
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []},
        "metadata": {},
    }


def bot_event(text: str, ts: float, metadata: dict | None = None) -> dict:
    return {
        "event": "bot",
        "timestamp": ts,
        "text": text,
        "data": {"buttons": [{"title": "Hours", "payload": "/library_hours"}]},
        "metadata": metadata or {},
    }


def conversation_events() -> list[RasaEvent]:
    bodies = [
        {"event": "action", "timestamp": 100.0, "name": "action_session_start"},
        {"event": "session_started", "timestamp": 100.1},
        user_event("hi <b>there</b>", 101.0),
        bot_event("Hello!", 101.5),
        {"event": "pause", "timestamp": 102.0},
        user_event("are you there?", 103.0, intent="request_human"),
        bot_event("I'm Sam, a librarian.", 104.0, {"librarian_id": None, "librarian_name": "Sam"}),
        {"event": "resume", "timestamp": 105.0},
    ]
    return [RasaEvent(SENDER, body) for body in bodies]


def counts(session: Session) -> tuple[int, int, int]:
    raw = session.execute(select(func.count(RawEvent.id))).scalar_one()
    messages = session.execute(select(func.count(Message.id))).scalar_one()
    conversations = session.execute(select(func.count(Conversation.id))).scalar_one()
    return raw, messages, conversations


def test_ingest_builds_conversation_messages_and_identity(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert ingest(session, conversation_events(), source="live") == 8
    with sessions() as session:
        assert counts(session) == (8, 4, 1)
        conversation = session.execute(select(Conversation)).scalar_one()
        assert conversation.channel == "webchat"
        assert conversation.status == ConversationStatus.ACTIVE  # the resume came last
        assert conversation.last_activity_at.timestamp() == 105.0
        messages = session.execute(select(Message).order_by(Message.sent_at)).scalars().all()
        assert [m.sender_kind for m in messages] == [
            SenderKind.READER, SenderKind.BOT, SenderKind.READER, SenderKind.BOT,
        ]  # fmt: skip
        assert messages[0].text == "hi <b>there</b>"  # stored verbatim; escaped when shown
        assert (messages[0].intent, messages[0].confidence) == ("greet", 0.93)
        assert messages[1].payload == {"buttons": [{"title": "Hours", "payload": "/library_hours"}]}
        identity = session.execute(select(ChannelIdentity)).scalar_one()
        assert (identity.channel, identity.external_id) == ("webchat", SENDER)
        assert conversation.reader_id == identity.reader_id


def test_ingesting_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    events = conversation_events()
    with sessions.begin() as session:
        ingest(session, events[:5], source="live")
    with sessions.begin() as session:
        # The catch-up path re-delivers some of the same events plus the rest.
        assert ingest(session, events, source="catchup") == 3
    with sessions.begin() as session:
        assert ingest(session, events, source="catchup") == 0
    with sessions() as session:
        assert counts(session) == (8, 4, 1)


def test_an_old_pause_replayed_late_does_not_undo_a_newer_resume(
    sessions: sessionmaker[Session],
) -> None:
    events = conversation_events()
    resume, pause = events[7], events[4]
    with sessions.begin() as session:
        ingest(session, [events[2], resume], source="live")
    with sessions.begin() as session:
        ingest(session, [pause], source="catchup")
    with sessions() as session:
        status = session.execute(select(Conversation.status)).scalar_one()
    assert status == ConversationStatus.ACTIVE


def test_librarian_messages_are_attributed(sessions: sessionmaker[Session]) -> None:
    body = bot_event("Sam here", 200.0, {"librarian_id": None, "sender_kind": "system"})
    with sessions.begin() as session:
        ingest(
            session, [RasaEvent(SENDER, user_event("hi", 199.0)), RasaEvent(SENDER, body)], "live"
        )
    with sessions() as session:
        kinds = (
            session.execute(select(Message.sender_kind).order_by(Message.sent_at)).scalars().all()
        )
    assert kinds == [SenderKind.READER, SenderKind.SYSTEM]


def test_event_key_ignores_sender_id_field_and_key_order() -> None:
    body = user_event("hello", 1.0)
    broker_message = {"sender_id": SENDER, **dict(reversed(list(body.items())))}
    assert from_broker_message(broker_message).key == event_key(SENDER, body)
    assert event_key(SENDER, body) != event_key("someone-else", body)
    assert event_key(SENDER, body) != event_key(SENDER, user_event("hello", 1.000001))


# -- issue 12: an event that cannot be ingested is quarantined, never wedges ingestion ----

POISONS = {
    # A lone surrogate (the widget message): the event key cannot even be hashed.
    "lone surrogate": user_event("hello \ud800 open?", 301.0),
    # A librarian id that is not a number: ingestion's own code raises ValueError.
    "bad librarian id": bot_event("hi", 301.0, {"librarian_id": "sam"}),
    # A time no datetime can hold.
    "impossible timestamp": user_event("when?", 1e20),
}


def poisoned_stream(poison: dict) -> list[RasaEvent]:
    """Tracker-ordered events with positions 1..7; the poison is position 4."""
    bodies = [
        user_event("first", 300.0),
        bot_event("answer one", 300.5),
        user_event("second", 300.7),
        poison,
        user_event("later one", 302.0),
        bot_event("later answer", 302.5),
        user_event("later two", 303.0),
    ]
    return [RasaEvent(SENDER, body, position=i) for i, body in enumerate(bodies, start=1)]


@pytest.mark.defects
@pytest.mark.parametrize("poison", list(POISONS), ids=list(POISONS))
def test_an_event_that_cannot_be_ingested_is_quarantined_and_the_rest_are_stored(
    sessions: sessionmaker[Session], poison: str, caplog: pytest.LogCaptureFixture
) -> None:
    events = poisoned_stream(POISONS[poison])
    with caplog.at_level(logging.WARNING, logger="crm_store.ingestion"):
        outcome = ingest_or_quarantine(sessions, events, source="catchup")
    assert (outcome.ingested, outcome.quarantined) == (6, 1)
    with sessions() as session:
        texts = session.execute(select(Message.text).order_by(Message.sent_at)).scalars().all()
        row = session.execute(select(QuarantinedEvent)).scalar_one()
    assert texts == ["first", "answer one", "second", "later one", "later answer", "later two"]
    expected_type = POISONS[poison]["event"]
    assert (row.tracker_event_id, row.source, row.sender_id, row.type_name) == (
        4, "catchup", SENDER, expected_type,
    )  # fmt: skip
    assert row.error.split(":")[0] in {"UnicodeEncodeError", "ValueError", "OverflowError"}
    assert row.quarantined_at.tzinfo is not None
    logged = [r for r in caplog.records if "quarantined tracker event 4" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING


@pytest.mark.defects
def test_a_quarantined_event_is_skipped_and_logged_once_on_every_later_pass(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    events = poisoned_stream(POISONS["lone surrogate"])
    with caplog.at_level(logging.WARNING, logger="crm_store.ingestion"):
        ingest_or_quarantine(sessions, events, source="live")
        # Catch-up re-reads the same rows (its overlap), every few seconds.
        for _ in range(3):
            again = ingest_or_quarantine(sessions, events, source="catchup")
            assert (again.ingested, again.quarantined) == (0, 0)
    with sessions() as session:
        rows = session.execute(select(QuarantinedEvent)).scalars().all()
        assert quarantine_count(session) == 1
    assert [(r.tracker_event_id, r.source) for r in rows] == [(4, "live")]
    assert sum("quarantined tracker event" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.defects
def test_the_quarantine_keeps_no_text_and_masks_pin_like_digits(
    sessions: sessionmaker[Session],
) -> None:
    # A PIN next to the bad character must not be copied into the quarantine row.
    poison = user_event("my pin is 4821 \ud800", 301.0)
    with sessions.begin() as session:
        recorded = quarantine(
            session,
            source="catchup",
            position=9,
            sender_id="reader-\ud800",
            type_name="user",
            timestamp=poison["timestamp"],
            error=ValueError("could not store 'my pin is 4821 \ud800'"),
        )
    assert recorded is True
    with sessions.begin() as session:
        # The same position again (the other path, or a later pass): recorded once only.
        again = quarantine(
            session,
            source="live",
            position=9,
            sender_id="reader",
            type_name="user",
            timestamp=None,
            error=ValueError("again"),
        )
    assert again is False
    with sessions() as session:
        row = session.execute(select(QuarantinedEvent)).scalar_one()
    assert row.sender_id == "reader-\\ud800"
    assert "4821" not in row.error and row.error.startswith("ValueError: could not store")
    assert (row.tracker_event_id, row.event_timestamp) == (9, 301.0)


def test_a_database_that_is_unavailable_is_not_mistaken_for_a_bad_event(
    tmp_path: Path,
) -> None:
    # A reader store whose tables are missing is unavailable, not full of bad events:
    # nothing is quarantined and the caller is told.
    engine = make_engine(f"sqlite:///{tmp_path / 'nothing-migrated.db'}")
    sessions = make_session_factory(engine)
    with pytest.raises(OperationalError):
        ingest_or_quarantine(sessions, poisoned_stream(POISONS["lone surrogate"]), "catchup")
    engine.dispose()


@pytest.mark.defects
def test_a_nul_that_only_postgresql_refuses_is_quarantined_there_and_stored_on_sqlite(
    sessions: sessionmaker[Session],
) -> None:
    events = poisoned_stream(user_event("nul \x00 here", 301.0))
    outcome = ingest_or_quarantine(sessions, events, source="catchup")
    dialect = sessions.kw["bind"].dialect.name
    with sessions() as session:
        texts = session.execute(select(Message.text).order_by(Message.sent_at)).scalars().all()
        errors = session.execute(select(QuarantinedEvent.error)).scalars().all()
    later = ["later one", "later answer", "later two"]
    if dialect == "postgresql":
        assert (outcome.ingested, outcome.quarantined) == (6, 1)
        assert texts[3:] == later and "nul \x00 here" not in texts
        assert [e.split(":")[0] for e in errors] == ["ValueError"]
    else:
        assert (outcome.ingested, outcome.quarantined) == (7, 0)
        assert texts[3:] == ["nul \x00 here", *later]
        assert errors == []
