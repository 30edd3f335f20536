"""Who drifted away (churn) and who keeps coming back (loyalty).

A reader's activity is the ``last_activity_at`` of their conversations; their
conversations are counted as the dashboard counts them, as channel sessions
(:mod:`crm_store.conversation_counts`), so a Telegram, Slack or email reader who comes
back to the same chat after a silence has two conversations. Each figure is one
aggregate query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_store.conversation_counts import counted_sessions, sessions_per_reader
from crm_store.models import Conversation
from crm_store.models.dashboard import ConversationSession

__all__ = ["ChurnEntry", "Loyalty", "churned_readers", "loyalty"]


@dataclass(frozen=True)
class ChurnEntry:
    """A reader on the churn list.

    Attributes:
        reader_id: The reader.
        last_active_at: The latest activity over all their conversations.
        conversations: Their conversations (channel sessions) with activity in the
            active window; 0 when they only answered a survey or follow-up there.
    """

    reader_id: int
    last_active_at: datetime
    conversations: int


@dataclass(frozen=True)
class Loyalty:
    """Repeat-reader loyalty over a window.

    Attributes:
        active_readers: Readers with at least one conversation (channel session)
            started in the window.
        repeat_readers: Of those, readers with two or more.
        conversations: Conversations (channel sessions) those readers started in the window.
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
    not counted. Their ``conversations`` are the channel sessions counted as
    conversations that were active in the window (ended at or after
    ``now - active_days``). The list is ordered by last activity, oldest first.
    """
    since = now - timedelta(days=active_days)
    quiet_from = now - timedelta(days=quiet_days)
    last = func.max(Conversation.last_activity_at)
    quiet = (
        select(Conversation.reader_id.label("reader_id"), last.label("last"))
        .where(Conversation.reader_id.is_not(None), Conversation.last_activity_at >= since)
        .group_by(Conversation.reader_id)
        .having(last < quiet_from)
        .subquery()
    )
    active = counted_sessions(
        ConversationSession.ended_at >= since, ConversationSession.started_at < now
    ).subquery()
    counts = (
        select(active.c.reader_id, func.count().label("n")).group_by(active.c.reader_id).subquery()
    )
    rows = session.execute(
        select(quiet.c.reader_id, quiet.c.last, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.reader_id == quiet.c.reader_id)
        .order_by(quiet.c.last, quiet.c.reader_id)
    ).all()
    return [ChurnEntry(int(reader), when, int(count)) for reader, when, count in rows]


def loyalty(session: Session, now: datetime, window_days: int = 90) -> Loyalty:
    """Repeat-reader loyalty of conversations started in ``[now - window_days, now)``.

    A conversation is a channel session counted as one (:mod:`crm_store.conversation_counts`).
    """
    since = now - timedelta(days=window_days)
    per_reader = sessions_per_reader(since, now)
    readers, repeat, conversations = session.execute(
        select(
            func.count(per_reader.c.reader_id),
            func.coalesce(func.sum(case((per_reader.c.n >= 2, 1), else_=0)), 0),
            func.coalesce(func.sum(per_reader.c.n), 0),
        )
    ).one()
    return Loyalty(int(readers), int(repeat), int(conversations))
