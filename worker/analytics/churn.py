"""Who drifted away (churn) and who keeps coming back (loyalty), from conversations.

A reader's activity is the ``last_activity_at`` of their conversations, so one
aggregate query over the conversations of the window answers both questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_store.models import Conversation


@dataclass(frozen=True)
class ChurnEntry:
    """A reader on the churn list."""

    reader_id: int
    last_active_at: datetime
    conversations: int


@dataclass(frozen=True)
class Loyalty:
    """Repeat-reader loyalty over a window.

    Attributes:
        active_readers: Readers with at least one conversation started in the window.
        repeat_readers: Of those, readers with two or more.
        conversations: Conversations those readers started in the window.
    """

    active_readers: int
    repeat_readers: int
    conversations: int

    @property
    def repeat_share(self) -> float | None:
        """``repeat_readers / active_readers``."""
        return self.repeat_readers / self.active_readers if self.active_readers else None

    @property
    def conversations_per_reader(self) -> float | None:
        """``conversations / active_readers``."""
        return self.conversations / self.active_readers if self.active_readers else None


def churned_readers(
    session: Session, now: datetime, active_days: int = 90, quiet_days: int = 30
) -> list[ChurnEntry]:
    """Readers active within ``active_days`` before ``now`` but not within ``quiet_days``.

    A reader qualifies when the latest activity over all their conversations lies in
    ``[now - active_days, now - quiet_days)``. Anonymous conversations (no reader) are
    not counted. The list is ordered by last activity, oldest first.
    """
    since = now - timedelta(days=active_days)
    quiet_from = now - timedelta(days=quiet_days)
    last = func.max(Conversation.last_activity_at)
    rows = session.execute(
        select(Conversation.reader_id, last, func.count(Conversation.id))
        .where(Conversation.reader_id.is_not(None), Conversation.last_activity_at >= since)
        .group_by(Conversation.reader_id)
        .having(last < quiet_from)
        .order_by(last, Conversation.reader_id)
    ).all()
    return [ChurnEntry(int(reader), when, int(count)) for reader, when, count in rows]


def loyalty(session: Session, now: datetime, window_days: int = 90) -> Loyalty:
    """Repeat-reader loyalty of conversations started in ``[now - window_days, now)``."""
    since = now - timedelta(days=window_days)
    per_reader = (
        select(Conversation.reader_id, func.count(Conversation.id).label("n"))
        .where(
            Conversation.reader_id.is_not(None),
            Conversation.started_at >= since,
            Conversation.started_at < now,
        )
        .group_by(Conversation.reader_id)
        .subquery()
    )
    readers, repeat, conversations = session.execute(
        select(
            func.count(per_reader.c.reader_id),
            func.coalesce(func.sum(case((per_reader.c.n >= 2, 1), else_=0)), 0),
            func.coalesce(func.sum(per_reader.c.n), 0),
        )
    ).one()
    return Loyalty(int(readers), int(repeat), int(conversations))
