"""What a reader may know about their handoff: queue position, expected wait, who joined.

Read by the web widget's channel (``connectors.webchat.handoff``), which runs inside the
Rasa server and pushes the answers to the reader's open tabs. Every function only
reads; the caller owns the session.

- :func:`handoff_view`: the conversation's handoffs as the reader sees them (waiting
  with a queue position and an expected wait, or with a named librarian) and the
  system lines "Sam (librarian) joined" / "Sam has left; the assistant is back";
- :func:`librarians_online`: how many librarians could take a chat now;
- :func:`recent_waits`: how long the latest claimed handoffs waited.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import Conversation, Handoff, HandoffStatus, StaffRole, StaffUser
from crm_store.typing_signals import is_fresh

__all__ = [
    "HandoffView",
    "SystemLine",
    "first_name",
    "handoff_view",
    "librarians_online",
    "recent_waits",
    "wait_text",
]

RECENT_WAITS = 20
"""How many of the latest claimed handoffs the expected wait is the median of."""

_AVAILABLE_ROLES = (StaffRole.LIBRARIAN, StaffRole.ADMIN)


@dataclass(frozen=True)
class SystemLine:
    """A line the reader sees between messages, e.g. "Sam (librarian) joined".

    Attributes:
        key: stable across polls and reloads (``"<handoff id>:joined"``), so a tab shows
            each line once.
        at: when it happened.
        text: what the reader reads.
    """

    key: str
    at: datetime
    text: str


@dataclass(frozen=True)
class HandoffView:
    """A conversation's handoff as its reader sees it.

    Attributes:
        state: ``"waiting"``, ``"with_librarian"`` or ``"none"`` (no open handoff).
        position: 1 for the next in the queue; None unless waiting.
        wait_minutes: the median wait of recent handoffs, rounded up; None unless
            waiting or when there is no recent handoff to go by.
        librarian: the display name of the librarian with the reader, if any.
        lines: every join and leave of the conversation's handoffs, oldest first.
        typing: the first name of the librarian typing a reply now, if any (only while
            a librarian is with the reader).
    """

    state: str
    position: int | None = None
    wait_minutes: int | None = None
    librarian: str | None = None
    lines: tuple[SystemLine, ...] = field(default_factory=tuple)
    typing: str | None = None


def wait_text(minutes: int | None) -> str:
    """ "about 4 minutes", or "a few minutes" when there is nothing to go by."""
    if minutes is None:
        return "a few minutes"
    if minutes <= 1:
        return "about a minute"
    return f"about {minutes} minutes"


def recent_waits(session: Session, limit: int = RECENT_WAITS) -> list[timedelta]:
    """How long the latest ``limit`` claimed handoffs waited, newest first."""
    rows = session.execute(
        select(Handoff.requested_at, Handoff.claimed_at)
        .where(Handoff.claimed_at.is_not(None))
        .order_by(Handoff.claimed_at.desc())
        .limit(limit)
    ).all()
    return [max(claimed - requested, timedelta(0)) for requested, claimed in rows]


def _expected_minutes(session: Session, position: int) -> int | None:
    waits = recent_waits(session)
    if not waits:
        return None
    median = statistics.median(wait.total_seconds() for wait in waits)
    # Each reader ahead was served in about one median wait.
    return max(1, -(-int(median * position) // 60))


def librarians_online(session: Session) -> int:
    """Active librarians and admins whose presence is "online" (they can take a chat)."""
    count = session.execute(
        select(func.count(StaffUser.id)).where(
            StaffUser.active.is_(True),
            StaffUser.presence == "online",
            StaffUser.role.in_(_AVAILABLE_ROLES),
        )
    ).scalar_one()
    return int(count)


def _lines(handoffs: list[Handoff], names: dict[int, str]) -> tuple[SystemLine, ...]:
    lines: list[SystemLine] = []
    for handoff in handoffs:
        name = names.get(int(handoff.librarian_id or 0), "A librarian")
        if handoff.claimed_at is not None:
            lines.append(
                SystemLine(f"{handoff.id}:joined", handoff.claimed_at, f"{name} (librarian) joined")
            )
            if handoff.resolved_at is not None and handoff.status == HandoffStatus.RESOLVED:
                lines.append(
                    SystemLine(
                        f"{handoff.id}:left",
                        handoff.resolved_at,
                        f"{name} has left; the assistant is back",
                    )
                )
    return tuple(sorted(lines, key=lambda line: line.at))


def handoff_view(session: Session, sender_id: str) -> HandoffView:
    """The handoff of the conversation with this Rasa ``sender_id``, as its reader sees it.

    One query finds the conversation's handoffs (indexed by conversation) and who is
    typing in it; a waiting one adds a count of the handoffs waiting longer and the
    recent waits.
    """
    rows = session.execute(
        select(Handoff, Conversation.staff_typing_at, Conversation.staff_typing_id)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Conversation.sender_id == sender_id)
        .order_by(Handoff.requested_at, Handoff.id)
    ).all()
    if not rows:
        return HandoffView("none")
    handoffs = [row[0] for row in rows]
    typing_at, typist = rows[-1][1], rows[-1][2]
    staff_ids = {int(h.librarian_id) for h in handoffs if h.librarian_id is not None}
    names: dict[int, str] = {}
    if staff_ids:
        names = {
            int(staff_id): first_name(str(name))
            for staff_id, name in session.execute(
                select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff_ids))
            ).all()
        }
    lines = _lines(handoffs, names)
    latest = handoffs[-1]
    if latest.status == HandoffStatus.CLAIMED:
        name = names.get(int(latest.librarian_id or 0), "A librarian")
        typing = None
        if typist is not None and is_fresh(typing_at, clock.now()):
            typing = names.get(int(typist), name)
        return HandoffView("with_librarian", librarian=name, lines=lines, typing=typing)
    if latest.status != HandoffStatus.WAITING:
        return HandoffView("none", lines=lines)
    ahead = session.execute(
        select(func.count(Handoff.id)).where(
            Handoff.status == HandoffStatus.WAITING,
            (Handoff.requested_at < latest.requested_at)
            | ((Handoff.requested_at == latest.requested_at) & (Handoff.id < latest.id)),
        )
    ).scalar_one()
    position = int(ahead) + 1
    return HandoffView(
        "waiting", position=position, wait_minutes=_expected_minutes(session, position), lines=lines
    )


def first_name(display_name: str) -> str:
    """The first word of a display name ("Sam Reyes" → "Sam"), for the reader's lines."""
    return display_name.split()[0] if display_name.strip() else display_name
