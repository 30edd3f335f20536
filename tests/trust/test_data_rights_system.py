"""Export and erase after a real conversation, on the running system (issue 18, item 6).

The README's run command runs (the session's ``system`` fixture: Rasa, the action
server, the console and the worker on SQLite). A reader signs in on the widget with a
demo card nobody else's test uses; ``./ric reader export`` then finds their
conversation in Rasa's tracker store (card and PIN masked there) and
``./ric reader erase`` removes it from every store, while the system goes on
answering and copying new conversations.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm_store.data_rights import ERASED
from crm_store.data_rights.tracker import read_events
from crm_store.models import Conversation, Message, Reader
from tests.connectors.test_assistant_flows import converse
from tests.system import RunningSystem
from tests.trust.test_data_rights_cli import reader_command
from tests.webchat_client import bot_texts

pytestmark = [pytest.mark.trust, pytest.mark.rasa]

CARD, PIN = "21234000789012", "8642"  # Samir Haddad in the demo library system


def ric(system: RunningSystem, *args: str) -> subprocess.CompletedProcess[str]:
    # The system's own stores, under its var folder.
    env: dict[str, str | None] = {"RIC_VAR_DIR": str(system.var_dir)}
    return reader_command(
        *args, env={**env, "RIC_DATABASE_URL": None, "RIC_TRACKER_DATABASE_URL": None}
    )


def wait_for(session: Session, query: object, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = session.execute(query).scalar()  # type: ignore[call-overload]
        if found is not None:
            return found
        session.rollback()
        time.sleep(0.3)
    raise AssertionError("timed out waiting for the reader store")


def test_a_real_conversation_is_exported_then_erased_everywhere(
    system: RunningSystem, tmp_path: Path
) -> None:
    session_id, turns = converse(system, "what books do i have out", f"card is {CARD}, pin {PIN}")
    assert bot_texts(turns[1])[0] == "Thanks, Samir, you're signed in."
    tracker = create_engine(system.tracker_url, future=True)
    store = Session(create_engine(system.database_url, future=True))
    reader_id = wait_for(store, select(Reader.id).where(Reader.card_number == CARD))
    wait_for(
        store,
        select(Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.sender_id == session_id, Message.text.like("card is%")),
    )

    saved = read_events(tracker, [session_id])[session_id]
    said = [e["text"] for e in saved if e.get("event") == "user"]
    assert said == ["what books do i have out", "card is **********9012, pin ••••"]

    out = tmp_path / "samir.json"
    exported = ric(system, "export", CARD, "-o", str(out))
    assert exported.returncode == 0, exported.stderr[-2000:]
    document = json.loads(out.read_text())
    [conversation] = [c for c in document["conversations"] if c["sender_id"] == session_id]
    assert len(conversation["tracker_events"]) == len(saved)
    assert document["reader"]["id"] == reader_id

    erased = ric(system, "erase", CARD, "--yes")
    assert erased.returncode == 0, erased.stderr[-2000:]
    assert read_events(tracker, [session_id])[session_id] == []
    store.rollback()
    texts = store.execute(
        select(Message.text)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.reader_id == reader_id)
    ).scalars()
    assert set(texts) == {ERASED}
    assert store.get(Reader, reader_id).card_number is None  # type: ignore[union-attr]

    # The system goes on: Rasa answers, and a new conversation is copied to the store.
    other, turns = converse(system, "when do you open on saturday?")
    assert bot_texts(turns[0])
    wait_for(store, select(Conversation.id).where(Conversation.sender_id == other))
    store.close()
    tracker.dispose()
