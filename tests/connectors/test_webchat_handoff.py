"""The reader's side of a handoff: store reads, the ``handoff`` frame and its pushes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.webchat.handoff import HandoffWatcher, handoff_frame, opening, staffed_at
from connectors.webchat.hub import ConnectionHub
from connectors.webchat.protocol import asks_for_secret, masked, parse_client_frame
from crm_store.handoff_status import (
    HandoffView,
    SystemLine,
    handoff_view,
    librarians_online,
    wait_text,
)
from crm_store.models import Handoff, HandoffStatus, StaffRole, StaffUser
from crm_store.repositories import open_handoff
from library.profile import load_profile
from tests.aio import run

pytestmark = pytest.mark.workspace

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday, inside the chat hours


def _staff(session: Session, name: str, presence: str = "online", **extra: Any) -> StaffUser:
    user = StaffUser(
        username=name.lower().replace(" ", "."),
        display_name=name,
        role=extra.pop("role", StaffRole.LIBRARIAN),
        password_hash="x",
        presence=presence,
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def _queue(session: Session, sender_id: str, at: datetime) -> Handoff:
    handoff, _ = open_handoff(session, sender_id=sender_id, channel="webchat", reason="asked")
    handoff.requested_at = at
    session.flush()
    return handoff


def _claim(handoff: Handoff, staff: StaffUser, at: datetime) -> None:
    handoff.status = HandoffStatus.CLAIMED
    handoff.librarian_id = staff.id
    handoff.claimed_at = at


def test_the_queue_position_moves_up_when_the_chat_ahead_is_claimed(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        sam = _staff(session, "Sam Reyes")
        first = _queue(session, "ahead", T0)
        _queue(session, "reader", T0 + timedelta(minutes=1))
        assert handoff_view(session, "reader").position == 2
        assert handoff_view(session, "ahead").position == 1
        _claim(first, sam, T0 + timedelta(minutes=3))
        session.flush()
        view = handoff_view(session, "reader")
    assert (view.state, view.position, view.librarian) == ("waiting", 1, None)


def test_the_expected_wait_is_the_median_of_recent_waits_times_the_position(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        sam = _staff(session, "Sam Reyes")
        assert handoff_view(session, "nobody").state == "none"
        for i, minutes in enumerate((2, 3, 30)):
            done = _queue(session, f"old-{i}", T0 - timedelta(hours=i + 1))
            _claim(done, sam, done.requested_at + timedelta(minutes=minutes))
        _queue(session, "ahead", T0)
        _queue(session, "reader", T0 + timedelta(seconds=5))
        session.flush()
        view = handoff_view(session, "reader")
    # Median 3 minutes per reader ahead and this one: 2 x 3.
    assert (view.position, view.wait_minutes) == (2, 6)
    assert wait_text(view.wait_minutes) == "about 6 minutes"


def test_no_recent_handoff_means_a_few_minutes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _queue(session, "reader", T0)
        view = handoff_view(session, "reader")
    assert (view.position, view.wait_minutes, wait_text(None)) == (1, None, "a few minutes")


def test_join_and_leave_lines_name_the_librarian_by_first_name(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        sam = _staff(session, "Sam Reyes")
        handoff = _queue(session, "reader", T0)
        _claim(handoff, sam, T0 + timedelta(minutes=2))
        session.flush()
        joined = handoff_view(session, "reader")
        handoff.status = HandoffStatus.RESOLVED
        handoff.resolved_at = T0 + timedelta(minutes=9)
        session.flush()
        left = handoff_view(session, "reader")
    assert (joined.state, joined.librarian) == ("with_librarian", "Sam")
    assert [line.text for line in joined.lines] == ["Sam (librarian) joined"]
    assert left.state == "none"
    assert [(line.key, line.text) for line in left.lines] == [
        (f"{handoff.id}:joined", "Sam (librarian) joined"),
        (f"{handoff.id}:left", "Sam has left; the assistant is back"),
    ]


def test_only_online_active_librarians_count_as_available(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _staff(session, "Away Person", presence="away")
        _staff(session, "Gone Person", active=False)
        _staff(session, "Boss Person", role=StaffRole.MANAGER)
        assert librarians_online(session) == 0
        _staff(session, "Sam Reyes")
        assert librarians_online(session) == 1


def test_staffed_hours_come_from_the_profile() -> None:
    profile = load_profile()
    monday_morning = datetime(2026, 12, 7, 10, 0, tzinfo=profile.tz)
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=profile.tz)
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=profile.tz)
    assert staffed_at(profile, monday_morning) is True
    assert staffed_at(profile, monday_morning.replace(hour=20)) is False
    assert staffed_at(profile, sunday) is False
    assert staffed_at(profile, christmas) is False
    assert staffed_at(profile, sunday, always=True) is True


def test_the_opening_greets_with_the_profiles_topics() -> None:
    frame = opening(load_profile())
    assert frame["greeting"].startswith("Hi! I'm the Riverbend Library assistant.")
    assert frame["topics"] == [
        "When are you open today?",
        "Renew my loans",
        "Find a book",
        "Talk to a librarian",
    ]


def test_the_pin_is_secret_only_while_the_form_asks_for_it() -> None:
    asked = [{"event": "slot", "name": "requested_slot", "value": "pin_check"}]
    assert asks_for_secret(asked) is True
    assert (
        asks_for_secret([{"event": "slot", "name": "requested_slot", "value": "card_number"}])
        is False
    )
    assert asks_for_secret([*asked, {"event": "active_loop", "name": None}]) is False
    assert (
        asks_for_secret([*asked, {"event": "slot", "name": "requested_slot", "value": None}])
        is False
    )


class FakeSocket:
    """Collects what the hub sends."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send(self, data: str) -> None:
        self.frames.append(json.loads(data))


def test_the_watcher_pushes_only_what_changed(sessions: sessionmaker[Session]) -> None:
    hub = ConnectionHub()
    socket = FakeSocket()
    hub.add("reader", socket)
    watcher = HandoffWatcher(hub, 1.0, sessions=sessions, always_staffed=True)
    with sessions.begin() as session:
        sam_id = _staff(session, "Sam Reyes").id
        ahead_id = _queue(session, "ahead", T0).id
        _queue(session, "reader", T0 + timedelta(minutes=1))

    async def rounds() -> list[int]:
        pushed = [await watcher.poll_once(), await watcher.poll_once()]
        with sessions.begin() as session:
            ahead = session.get(Handoff, ahead_id)
            _claim(ahead, session.get(StaffUser, sam_id), T0 + timedelta(minutes=2))
        pushed.append(await watcher.poll_once())
        return pushed

    assert run(rounds()) == [1, 0, 1]
    assert [(f["state"], f.get("position"), f["available"]) for f in socket.frames] == [
        ("waiting", 2, True),
        ("waiting", 1, True),
    ]


def test_the_frame_carries_lines_as_timestamps() -> None:
    view = HandoffView(
        "with_librarian",
        librarian="Sam",
        lines=(SystemLine("3:joined", T0, "Sam (librarian) joined"),),
    )
    assert handoff_frame(view, available=False) == {
        "type": "handoff",
        "available": False,
        "state": "with_librarian",
        "librarian": "Sam",
        "lines": [{"key": "3:joined", "ts": T0.timestamp(), "text": "Sam (librarian) joined"}],
    }


def test_a_secret_message_is_echoed_as_dots() -> None:
    frame = parse_client_frame('{"type": "message", "id": "m1", "text": "1234", "secret": true}')
    assert frame is not None
    assert (frame.text, frame.secret, masked(frame.text)) == ("1234", True, "\u2022" * 4)
    plain = parse_client_frame('{"type": "message", "id": "m2", "text": "hi"}')
    assert plain is not None and plain.secret is False
