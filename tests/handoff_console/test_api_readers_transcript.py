"""Card numbers a reader typed are masked in the staff transcript (issue 15, item 5).

A real console process on a migrated SQLite store; Rasa is not needed to read a
conversation.
"""

from __future__ import annotations

import time
import uuid

import pytest

from crm_store.ingestion import RasaEvent, ingest
from crm_store.repositories import conversation_of
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer

pytestmark = pytest.mark.workspace

TYPED = "my card is 2123 4000 1234 56 and the other one 21234000567890"
SHOWN = "my card is **********3456 and the other one **********7890"


@pytest.fixture(scope="module")
def conversation(console_store: ConsoleStore) -> int:
    sender = f"web-{uuid.uuid4().hex[:10]}"
    body = {
        "event": "user",
        "text": TYPED,
        "timestamp": time.time(),
        "input_channel": "webchat",
        "parse_data": {"intent": {"name": "inform", "confidence": 0.9}},
    }
    with console_store.sessions.begin() as session:
        ingest(session, [RasaEvent(sender, body)], "test")
        session.flush()
        return int(conversation_of(session, sender).id)


def test_the_transcript_masks_card_numbers(
    console: ConsoleServer, console_store: ConsoleStore, conversation: int
) -> None:
    client = ApiClient(console, api_token_for(console_store.sessions, "sam"))
    reply = client.get(f"/api/conversations/{conversation}")
    assert reply.status == 200, reply.text
    texts = [message["text"] for message in reply.json()["messages"]]
    assert texts == [SHOWN]
