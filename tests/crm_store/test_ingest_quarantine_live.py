"""Issue 12 through the running system: one bad event never stops the reader store's copy.

The channel repairs a lone surrogate before Rasa sees it (``messaging.text_safety``),
so to reach the store-side quarantine this test also writes a poisoned event straight
into the running Rasa's tracker store, as a Rasa without that repair saved it, and
checks that the worker quarantines it and goes on copying the widget conversation.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm_store.catchup import tracker_events
from crm_store.models import Conversation, Direction, Message, QuarantinedEvent
from tests.aio import run
from tests.live_console import wait_for
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient

pytestmark = [pytest.mark.rasa, pytest.mark.defects]

POISON_TEXT = "hello \ud800 open?"


def insert_poisoned_event(system: RunningSystem, sender_id: str) -> int:
    """Append a user event with a lone surrogate to the tracker store; return its row id."""
    body = {
        "event": "user",
        "timestamp": time.time(),
        "text": POISON_TEXT,
        "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []},
        "input_channel": "webchat",
        "message_id": uuid.uuid4().hex,
        "metadata": {},
    }
    engine = create_engine(system.tracker_url, future=True, connect_args={"timeout": 15})
    try:
        with engine.begin() as connection:
            result = connection.execute(
                tracker_events.insert().values(
                    sender_id=sender_id,
                    type_name="user",
                    timestamp=body["timestamp"],
                    data=json.dumps(body),  # as Rasa writes it: the surrogate as "\ud800"
                )
            )
            return int(result.inserted_primary_key[0])
    finally:
        engine.dispose()


def reader_texts(system: RunningSystem, session_id: str) -> list[str]:
    engine = create_engine(system.database_url, future=True)
    try:
        with Session(engine) as session:
            return list(
                session.execute(
                    select(Message.text)
                    .join(Conversation)
                    .where(Conversation.sender_id == session_id)
                    .where(Message.direction == Direction.INBOUND.value)
                    .order_by(Message.sent_at)
                ).scalars()
            )
    finally:
        engine.dispose()


def quarantined(system: RunningSystem, position: int) -> QuarantinedEvent | None:
    engine = create_engine(system.database_url, future=True)
    try:
        with Session(engine) as session:
            return session.execute(
                select(QuarantinedEvent).where(QuarantinedEvent.tracker_event_id == position)
            ).scalar_one_or_none()
    finally:
        engine.dispose()


def health(system: RunningSystem) -> dict[str, Any]:
    with urllib.request.urlopen(f"{system.console_url}/api/health", timeout=10) as reply:
        return dict(json.loads(reply.read()))


def test_a_poisoned_event_is_quarantined_and_later_widget_messages_reach_the_store(
    system: RunningSystem,
) -> None:
    position = insert_poisoned_event(system, f"poison-{uuid.uuid4().hex}")

    async def conversation() -> str:
        client = await WidgetClient(system.ws_url).connect()
        await client.say(POISON_TEXT)  # repaired by the channel
        await client.say("what are your opening hours?")
        await client.close()
        assert client.session_id
        return client.session_id

    session_id = run(conversation())

    def both_stored() -> list[str] | None:
        texts = reader_texts(system, session_id)
        return texts if len(texts) >= 2 else None

    def caught_up() -> dict[str, Any] | None:
        ingestion = dict(health(system)["ingestion"])
        return ingestion if ingestion["events_behind"] == 0 else None

    texts = wait_for(both_stored)
    assert texts == ["hello \ufffd open?", "what are your opening hours?"]
    row = wait_for(lambda: quarantined(system, position))
    assert (row.type_name, row.error.split(":")[0]) == ("user", "UnicodeEncodeError")
    assert "hello" not in row.error
    ingestion = wait_for(caught_up)
    assert ingestion["status"] == "up"
    assert ingestion["quarantined"] >= 1
    assert ingestion["store_position"] >= position
