"""The console's live-update poller publishes each handoff message exactly once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Message
from handoff_console.services.events import ID_OVERLAP, EventHub
from tests.handoff_console.live_events import STARTED, add_conversation


def _message(sessions: sessionmaker[Session], conversation_id: int, text: str, row_id: int) -> None:
    with sessions.begin() as session:
        session.add(
            Message(
                id=row_id,
                event_key=f"key-{row_id}",
                conversation_id=conversation_id,
                direction="in",
                sender_kind="reader",
                text=text,
                channel="webchat",
                sent_at=STARTED,
            )
        )


def _texts(frames: list[str]) -> list[str]:
    return [f for f in frames if f.startswith("event: message")]


def test_late_visible_lower_ids_are_published_once(sessions: sessionmaker[Session]) -> None:
    live = add_conversation(sessions, "live", handoff=True)
    quiet = add_conversation(sessions, "quiet", handoff=False)
    _message(sessions, live, "before the console started", 100)
    hub = EventHub(sessions)
    assert _texts(hub._poll()) == []  # history is not replayed as news

    _message(sessions, live, "first <b>news</b>", 110)
    _message(sessions, quiet, "not in a handoff", 111)
    frames = _texts(hub._poll())
    assert len(frames) == 1 and "first <b>news</b>" in frames[0]

    # A row with a lower id becomes visible after a higher one (PostgreSQL commit order).
    _message(sessions, live, "committed late", 105)
    _message(sessions, live, "newest", 120)
    frames = _texts(hub._poll())
    assert ["committed late" in frames[0], "newest" in frames[1]] == [True, True]
    assert _texts(hub._poll()) == []  # nothing twice

    # Beyond the overlap window, a late row is left to the page's own reload.
    _message(sessions, live, "far newer", 120 + ID_OVERLAP + 50)
    hub._poll()
    _message(sessions, live, "ancient", 101)
    assert _texts(hub._poll()) == []
