"""Private notes reach every console live, as ``note`` events, each exactly once (issue 15).

First the poller itself, on SQLite and PostgreSQL (``sessions``): notes found by row id
with the same overlap as messages. Then two real console processes sharing one store,
as two replicas do: a note written through one console, and one written straight into
the store by another process (this test), reach both consoles' event streams once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Note, StaffUser
from handoff_console.accounts import create_staff
from handoff_console.services.events import ID_OVERLAP, EventHub
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.handoff_console.live_events import EventStream, add_conversation

pytestmark = pytest.mark.workspace

XSS = '<img src=x onerror="alert(1)"> & "quotes"'


# -- the poller ------------------------------------------------------------------------


def _setup(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """A conversation in handoff, one never handed off, and a librarian: their ids."""
    with sessions.begin() as session:
        staff = create_staff(
            session, username="sam", password="sam-correct-horse", role="librarian",
            display_name="Sam Reyes",
        )  # fmt: skip
        sam = int(staff.id)
    live = add_conversation(sessions, "live", handoff=True)
    return live, add_conversation(sessions, "bot-only", handoff=False), sam


def _note(
    sessions: sessionmaker[Session], conversation_id: int, staff_id: int, body: str, row_id: int
) -> None:
    with sessions.begin() as session:
        session.add(
            Note(id=row_id, conversation_id=conversation_id, staff_user_id=staff_id, body=body)
        )


def _notes(frames: list[str]) -> list[dict[str, Any]]:
    """The data of the ``note`` events among ``frames``."""
    found = []
    for frame in frames:
        name, data = frame.rstrip("\n").split("\n")
        if name == "event: note":
            found.append(json.loads(data.removeprefix("data: ")))
    return found


def _bodies(frames: list[str]) -> list[tuple[int, str]]:
    return [(n["conversation_id"], n["note"]["body"]) for n in _notes(frames)]


def test_the_poller_publishes_each_new_note_once(sessions: sessionmaker[Session]) -> None:
    live, bot_only, sam = _setup(sessions)
    _note(sessions, live, sam, "written before the console started", 100)
    hub = EventHub(sessions)
    assert _notes(hub._poll()) == []  # history is not replayed as news

    _note(sessions, live, sam, XSS, 110)
    _note(sessions, bot_only, sam, "a note on a bot-only conversation", 111)
    [first, second] = _notes(hub._poll())
    assert first["conversation_id"] == live
    assert {k: first["note"][k] for k in ("id", "author", "body")} == {
        "id": 110,
        "author": "Sam Reyes",
        "body": XSS,
    }
    assert first["note"]["created_at"].endswith("+00:00")
    assert (second["conversation_id"], second["note"]["body"]) == (
        bot_only,
        "a note on a bot-only conversation",
    )
    assert _notes(hub._poll()) == []  # nothing twice

    # A row with a lower id becomes visible after a higher one (PostgreSQL commit order).
    _note(sessions, live, sam, "committed late", 105)
    _note(sessions, live, sam, "newest", 120)
    assert _bodies(hub._poll()) == [(live, "committed late"), (live, "newest")]
    assert _notes(hub._poll()) == []

    # Beyond the overlap window, a late row is left to the page's own reload.
    _note(sessions, live, sam, "far newer", 120 + ID_OVERLAP + 50)
    assert _bodies(hub._poll()) == [(live, "far newer")]
    _note(sessions, live, sam, "ancient", 101)
    assert _notes(hub._poll()) == []


# -- two console processes on one store ---------------------------------------------------


@pytest.fixture
def replica(
    console: ConsoleServer, console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """A second console process on the module's store, as a second replica would run."""
    server = start_console(console_store.url, tmp_path_factory.mktemp("replica") / "console.log")
    yield server
    server.stop()


def test_a_note_reaches_every_console_once_whoever_wrote_it(
    console: ConsoleServer,
    replica: ConsoleServer,
    console_store: ConsoleStore,
    api_clients: dict[str, ApiClient],
    api_handoff: Any,
) -> None:
    conversation = api_handoff("Can I get a study room for Friday?")
    token = api_token_for(console_store.sessions, "maria")
    streams = [EventStream(console.port, token), EventStream(replica.port, token)]
    for stream in streams:
        stream.start()
    try:
        # The first queue event comes after the poller has taken what is stored as history.
        for stream in streams:
            stream.wait(lambda s=stream: any(n == "queue" for n, _ in s.events))

        through_api = f"Through the first console: {XSS}"
        written = api_clients["sam"].post(
            f"/api/conversations/{conversation}/notes", {"body": through_api}
        )
        assert written.status == 201, written.text

        # Another process (this test) writes straight into the shared store.
        direct = "Written by another process into the store"
        with console_store.sessions.begin() as session:
            sam = session.execute(select(StaffUser).where(StaffUser.username == "sam")).scalar_one()
            session.add(Note(conversation_id=conversation, staff_user_id=sam.id, body=direct))

        for stream in streams:
            [api_note] = stream.wait(lambda s=stream: s.notes(through_api))
            assert api_note == {"conversation_id": conversation, "note": written.json()}
            [direct_note] = stream.wait(lambda s=stream: s.notes(direct))
            assert (direct_note["conversation_id"], direct_note["note"]["author"]) == (
                conversation,
                "Sam Reyes",
            )

        # A later note arrives after at least one more poll of each console: by then a
        # second copy of either note would have been sent too.
        marker = "the last note of this test"
        assert (
            api_clients["maria"]
            .post(f"/api/conversations/{conversation}/notes", {"body": marker})
            .status
            == 201
        )
        for stream in streams:
            stream.wait(lambda s=stream: s.notes(marker))
            assert [len(stream.notes(through_api)), len(stream.notes(direct))] == [1, 1]
    finally:
        for stream in streams:
            stream.close()
