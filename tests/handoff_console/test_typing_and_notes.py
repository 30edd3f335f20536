"""Typing both ways and private notes (issue 15), against a real console and SQLite store.

The librarian's typing goes console API → store → the web chat channel's handoff frame
(read here with the channel's own :class:`HandoffWatcher`, as the Rasa process runs
it); the reader's goes the watcher's throttled write → store → the console's ``typing``
Server-Sent Event and ``reader_typing`` in the conversation view. The widget and the
console page themselves are driven in ``tests/browser/test_workspace_typing.py``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.webchat.handoff import HandoffWatcher
from connectors.webchat.hub import ConnectionHub
from crm_store import clock
from crm_store.models import Conversation, Message, Note, OutboundMessage
from crm_store.typing_signals import TYPING_SECONDS
from tests.aio import run

pytestmark = pytest.mark.workspace


def _sender(console_store: Any, conversation_id: int) -> str:
    with console_store.sessions() as session:
        return str(session.get(Conversation, conversation_id).sender_id)


def _frame(watcher: HandoffWatcher, sender_id: str) -> dict[str, Any]:
    return watcher.read([sender_id])[sender_id]


class TypingEvents(threading.Thread):
    """Collects the console's ``typing`` events in the background."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.events: list[list[int]] = []
        self.ready = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/api/events", headers={"Authorization": f"Bearer {self.token}"})
        reply = connection.getresponse()
        self.ready.set()
        name = ""
        try:
            while raw := reply.readline():
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "typing":
                    self.events.append(json.loads(line[6:])["conversation_ids"])
        except OSError:
            return


def _wait(probe: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_the_librarians_typing_reaches_the_widgets_frame_and_expires(
    api_clients, api_handoff, console_store
):
    sam, maria = api_clients["sam"], api_clients["maria"]
    conversation_id = api_handoff("Is the archive open on Sunday?")
    sender_id = _sender(console_store, conversation_id)
    watcher = HandoffWatcher(ConnectionHub(), 3.0, console_store.sessions, always_staffed=True)
    assert "typing" not in _frame(watcher, sender_id)

    assert sam.post(f"/api/conversations/{conversation_id}/claim").status == 200
    reply = sam.post(f"/api/conversations/{conversation_id}/typing", {"on": True})
    assert reply.status == 200, reply.text
    assert reply.json() == {
        "conversation_id": conversation_id,
        "on": True,
        "expires_in_seconds": TYPING_SECONDS,
    }
    frame = _frame(watcher, sender_id)
    assert (frame["state"], frame["librarian"], frame["typing"]) == ("with_librarian", "Sam", "Sam")

    # A colleague stopping clears nothing of Sam's; Sam stopping clears it at once.
    assert maria.post(f"/api/conversations/{conversation_id}/typing", {"on": False}).status == 200
    assert _frame(watcher, sender_id)["typing"] == "Sam"
    assert sam.post(f"/api/conversations/{conversation_id}/typing", {"on": False}).status == 200
    assert "typing" not in _frame(watcher, sender_id)

    # Without a refresh, the signal is gone after TYPING_SECONDS.
    assert sam.post(f"/api/conversations/{conversation_id}/typing", {"on": True}).status == 200
    later = clock.TravelClock(clock.now() + timedelta(seconds=TYPING_SECONDS + 1))
    previous = clock.install(later)
    try:
        assert "typing" not in _frame(watcher, sender_id)
    finally:
        clock.install(previous)
    assert _frame(watcher, sender_id)["typing"] == "Sam"


def test_typing_refuses_bad_input(api_clients, api_handoff):
    sam = api_clients["sam"]
    conversation_id = api_handoff("hello")
    for body in ({}, {"on": "yes"}, {"on": 1}, {"on": None}):
        reply = sam.post(f"/api/conversations/{conversation_id}/typing", body)
        assert (reply.status, reply.json()["error"]) == (400, "bad_request"), body
    missing = sam.post("/api/conversations/999999/typing", {"on": True})
    assert missing.status == 404
    assert (
        api_clients["anon"]
        .post(f"/api/conversations/{conversation_id}/typing", {"on": True})
        .status
        == 401
    )


def test_the_readers_typing_reaches_the_console_throttled(
    api_clients, api_handoff, console_store, console
):
    sam = api_clients["sam"]
    conversation_id = api_handoff("I have a question about my fines")
    sender_id = _sender(console_store, conversation_id)
    listener = TypingEvents(console.port, sam.token)
    listener.start()
    assert listener.ready.wait(10)
    watcher = HandoffWatcher(ConnectionHub(), 3.0, console_store.sessions, always_staffed=True)

    async def keystrokes() -> list[bool]:
        # Three "typing" frames in a row: one store write; "stopped" is written.
        return [
            await watcher.reader_typing(sender_id, True),
            await watcher.reader_typing(sender_id, True),
            await watcher.reader_typing(sender_id, True),
        ]

    assert run(keystrokes()) == [True, False, False]
    view = sam.get(f"/api/conversations/{conversation_id}").json()
    assert view["reader_typing"] is True
    _wait(lambda: any(conversation_id in ids for ids in listener.events))

    assert run(watcher.reader_typing(sender_id, False)) is True
    assert run(watcher.reader_typing(sender_id, False)) is False  # nothing to clear
    assert sam.get(f"/api/conversations/{conversation_id}").json()["reader_typing"] is False
    _wait(lambda: listener.events and conversation_id not in listener.events[-1])


def test_a_private_note_is_stored_shown_to_staff_and_never_relayed(
    api_clients, api_handoff, console_store
):
    sam, maria = api_clients["sam"], api_clients["maria"]
    conversation_id = api_handoff("Where is my interlibrary loan?")
    assert sam.post(f"/api/conversations/{conversation_id}/claim").status == 200
    text = "Reader called earlier <b>about this</b>; ILL #4411"
    added = sam.post(f"/api/conversations/{conversation_id}/notes", {"body": text})
    assert added.status == 201, added.text
    note = added.json()
    assert (note["author"], note["body"]) == ("Sam Reyes", text)

    view = maria.get(f"/api/conversations/{conversation_id}").json()
    assert [(n["id"], n["body"]) for n in view["notes"]] == [(note["id"], text)]
    assert text not in [m["text"] for m in view["messages"]]
    with console_store.sessions() as session:
        relayed = session.execute(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.conversation_id == conversation_id
            )
        ).scalar_one()
        stored = session.execute(
            select(func.count(Message.id)).where(Message.text == text)
        ).scalar_one()
        notes = session.execute(
            select(func.count(Note.id)).where(Note.conversation_id == conversation_id)
        ).scalar_one()
    assert (relayed, stored, notes) == (0, 0, 1)
    # A note is no reply: the reader's question still counts as unanswered.
    assert view["unanswered"] is True

    empty = sam.post(f"/api/conversations/{conversation_id}/notes", {"body": "   "})
    assert empty.status == 400
