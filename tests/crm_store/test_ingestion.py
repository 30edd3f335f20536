"""Ingestion is idempotent and turns Rasa events into conversations and messages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, event_key, from_broker_message, ingest
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Message,
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
