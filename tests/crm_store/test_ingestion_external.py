"""An intent triggered from outside (``trigger_intent``) is not the reader's message.

The console's resolve triggers ``EXTERNAL_handoff_resolved``; Rasa logs it as a
``user`` event with the text ``"EXTERNAL: EXTERNAL_handoff_resolved"``. The events
here are serialised by Rasa itself, so their shape is the one the broker delivers.
"""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest, is_external
from crm_store.models import ChannelIdentity, Message, RawEvent

pytestmark = pytest.mark.workspace

SENDER = "0b7e7a52-external-intent"


def _event(event: UserUttered | BotUttered | ActionExecuted, ts: float) -> RasaEvent:
    body = event.as_dict()
    body["timestamp"] = ts
    return RasaEvent(SENDER, body)


def _resolved_conversation() -> list[RasaEvent]:
    reader = UserUttered(
        "Can I renew a thesis?",
        intent={"name": "request_human", "confidence": 0.97},
        input_channel="webchat",
    )
    back = UserUttered.create_external("EXTERNAL_handoff_resolved", input_channel="webchat")
    return [
        _event(reader, 100.0),
        _event(ActionExecuted("action_listen"), 101.0),
        _event(back, 102.0),
        _event(BotUttered("I'm back! How can I help?"), 103.0),
    ]


def test_the_triggered_intent_is_kept_as_a_raw_event_but_not_as_a_message(
    sessions: sessionmaker[Session],
) -> None:
    events = _resolved_conversation()
    assert events[2].body["text"] == "EXTERNAL: EXTERNAL_handoff_resolved"
    with sessions.begin() as session:
        assert ingest(session, events, "broker") == 4
    with sessions() as session:
        messages = session.execute(
            select(Message.sender_kind, Message.text).order_by(Message.sent_at)
        ).all()
        raw = session.execute(select(RawEvent.type_name, RawEvent.body)).all()
    assert [(kind.value, text) for kind, text in messages] == [
        ("reader", "Can I renew a thesis?"),
        ("bot", "I'm back! How can I help?"),
    ]
    assert [body.get("text") for kind, body in raw if kind == "user"] == [
        "Can I renew a thesis?",
        "EXTERNAL: EXTERNAL_handoff_resolved",
    ]


def test_a_conversation_that_only_had_a_triggered_intent_gets_no_reader_identity(
    sessions: sessionmaker[Session],
) -> None:
    back = UserUttered.create_external("EXTERNAL_reminder", input_channel="webchat")
    with sessions.begin() as session:
        ingest(session, [_event(back, 50.0)], "broker")
    with sessions() as session:
        identities = session.execute(select(ChannelIdentity.external_id)).scalars().all()
        messages = session.execute(select(Message.id)).scalars().all()
    assert (identities, messages) == ([], [])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (UserUttered.create_external("EXTERNAL_handoff_resolved").as_dict(), True),
        # an older tracker without the metadata: the intent and its "EXTERNAL: " text
        (
            {
                "event": "user",
                "text": "EXTERNAL: EXTERNAL_handoff_resolved",
                "parse_data": {"intent": {"name": "EXTERNAL_handoff_resolved"}},
            },
            True,
        ),
        # a reader who types the words is still a reader
        (
            {
                "event": "user",
                "text": "EXTERNAL: EXTERNAL_handoff_resolved",
                "parse_data": {"intent": {"name": "nlu_fallback"}},
                "metadata": {},
            },
            False,
        ),
        (UserUttered("hello", intent={"name": "greet"}).as_dict(), False),
        (BotUttered("EXTERNAL: EXTERNAL_x").as_dict(), False),
    ],
)
def test_is_external(body: dict[str, object], expected: bool) -> None:
    assert is_external(RasaEvent(SENDER, body)) is expected
