"""Test data and fixtures for the worker job tests: a travelling clock and store rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Direction,
    Handoff,
    HandoffStatus,
    Message,
    Reader,
    SenderKind,
    StaffUser,
)

START = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
"""A Tuesday noon in London (GMT), well outside the default quiet hours."""


@pytest.fixture
def travel(monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.TravelClock]:
    """A TravelClock installed for the test (and the library's zone pinned to London)."""
    monkeypatch.setenv("RIC_LIBRARY_TIMEZONE", "Europe/London")
    travelling = clock.TravelClock(START)
    previous = clock.install(travelling)
    yield travelling
    clock.install(previous)


def staff(session: Session, username: str, email: str | None = None) -> StaffUser:
    """A librarian account (the password hash is irrelevant to the worker)."""
    row = StaffUser(
        username=username,
        display_name=username.title(),
        email=email,
        password_hash="not-a-real-hash",
    )
    session.add(row)
    session.flush()
    return row


def reader(session: Session, card: str | None = None, name: str = "Ada Okafor") -> Reader:
    """A reader, verified when a card is given."""
    row = Reader(display_name=name, card_number=card, verified_at=clock.now() if card else None)
    session.add(row)
    session.flush()
    return row


def conversation(
    session: Session,
    sender_id: str,
    *,
    channel: str = "webchat",
    reader_id: int | None = None,
    at: datetime | None = None,
) -> Conversation:
    """A conversation (and the channel identity behind it when it has a reader)."""
    when = at or clock.now()
    row = Conversation(
        sender_id=sender_id,
        channel=channel,
        reader_id=reader_id,
        status=ConversationStatus.ACTIVE,
        started_at=when,
        last_activity_at=when,
    )
    session.add(row)
    if reader_id is not None:
        session.add(ChannelIdentity(reader_id=reader_id, channel=channel, external_id=sender_id))
    session.flush()
    return row


def message(
    session: Session,
    conv: Conversation,
    kind: SenderKind,
    text: str,
    *,
    intent: str | None = None,
    at: datetime | None = None,
) -> Message:
    """A message in ``conv``; moves the conversation's last activity."""
    when = at or clock.now()
    row = Message(
        event_key=f"{conv.sender_id}-{kind.value}-{when.timestamp()}-{text[:10]}",
        conversation_id=conv.id,
        direction=Direction.INBOUND if kind == SenderKind.READER else Direction.OUTBOUND,
        sender_kind=kind,
        text=text,
        intent=intent,
        channel=conv.channel,
        sent_at=when,
    )
    session.add(row)
    conv.last_activity_at = max(conv.last_activity_at, when)
    session.flush()
    return row


def resolved_handoff(
    session: Session, conv: Conversation, librarian: StaffUser, *, at: datetime | None = None
) -> Handoff:
    """A handoff a librarian claimed and resolved at ``at``."""
    when = at or clock.now()
    row = Handoff(
        conversation_id=conv.id,
        reason="request_human",
        status=HandoffStatus.RESOLVED,
        librarian_id=librarian.id,
        requested_at=when - timedelta(minutes=10),
        claimed_at=when - timedelta(minutes=9),
        resolved_at=when,
    )
    session.add(row)
    session.flush()
    return row
