"""Channel sessions: a Rasa conversation split into conversations after a silence.

A Telegram, Slack or email chat is one Rasa conversation (one ``sender_id``) forever,
so a reader who comes back a week later would never count as a return. The reader
store splits every conversation into sessions (``conversation_sessions``): a message
more than the inactivity period (``RIC_SESSION_INACTIVITY_MINUTES``, 60 by default,
as Rasa's ``session_expiration_time`` in ``bot/domain/core.yml``) after the previous
one opens a new session. Every message counts as activity (the reader's, the bot's,
a librarian's); the dashboard counts a session as a conversation only when the reader
wrote in it, so an unanswered reminder is no conversation.

- :func:`extend_sessions`: called by ingestion with the new messages' times;
- :func:`resplit`: rebuilds the sessions of given conversations from their messages
  (existing data, or after the period changed); :func:`resplit_all` does every
  conversation in batches.

The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_store.models import Conversation, Message
from crm_store.models.dashboard import ConversationSession
from ric_config.dashboard import DashboardConfig

__all__ = [
    "extend_sessions",
    "resplit",
    "resplit_all",
    "session_count",
    "session_gap",
    "split_times",
]


def session_gap() -> timedelta:
    """The configured inactivity period after which a new session starts."""
    return timedelta(minutes=DashboardConfig().session_inactivity_minutes)


def split_times(times: Iterable[datetime], gap: timedelta) -> list[tuple[datetime, datetime]]:
    """The (start, end) of each session of messages sent at ``times``, oldest first.

    A message more than ``gap`` after the one before it starts a new session.
    """
    spans: list[tuple[datetime, datetime]] = []
    for moment in sorted(times):
        if spans and moment - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], moment)
        else:
            spans.append((moment, moment))
    return spans


def _latest(session: Session, conversation_id: int) -> ConversationSession | None:
    found: ConversationSession | None = session.execute(
        select(ConversationSession)
        .where(ConversationSession.conversation_id == conversation_id)
        .order_by(ConversationSession.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return found


def extend_sessions(
    session: Session,
    conversation: Conversation,
    times: Sequence[datetime],
    gap: timedelta | None = None,
) -> None:
    """Add newly ingested messages sent at ``times`` to ``conversation``'s sessions.

    Messages after the latest session extend it or open new ones. A message older than
    the latest session's start (a late catch-up) re-splits the whole conversation.
    """
    if not times:
        return
    gap = gap or session_gap()
    latest = _latest(session, conversation.id)
    if latest is not None and min(times) < latest.started_at:
        session.flush()
        resplit(session, [conversation.id], gap)
        return
    seq = -1 if latest is None else latest.seq
    current = latest
    for moment in sorted(times):
        if current is not None and moment - current.ended_at <= gap:
            current.ended_at = max(current.ended_at, moment)
            continue
        seq += 1
        current = ConversationSession(
            conversation_id=conversation.id,
            seq=seq,
            channel=conversation.channel,
            reader_id=conversation.reader_id,
            started_at=moment,
            ended_at=moment,
        )
        session.add(current)
    session.flush()


def resplit(session: Session, conversation_ids: Iterable[int], gap: timedelta | None = None) -> int:
    """Rebuild the sessions of ``conversation_ids`` from their messages; returns how many.

    The rebuilt sessions have no facts yet; the rollup job fills them.
    """
    gap = gap or session_gap()
    ids = sorted(set(conversation_ids))
    if not ids:
        return 0
    times: dict[int, list[datetime]] = {cid: [] for cid in ids}
    for conversation_id, sent_at in session.execute(
        select(Message.conversation_id, Message.sent_at).where(Message.conversation_id.in_(ids))
    ):
        times[int(conversation_id)].append(sent_at)
    conversations = {
        c.id: c
        for c in session.execute(select(Conversation).where(Conversation.id.in_(ids))).scalars()
    }
    session.execute(delete(ConversationSession).where(ConversationSession.conversation_id.in_(ids)))
    made = 0
    rows = []
    for conversation_id in ids:
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        for seq, (start, end) in enumerate(split_times(times[conversation_id], gap)):
            rows.append(
                {
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "channel": conversation.channel,
                    "reader_id": conversation.reader_id,
                    "started_at": start,
                    "ended_at": end,
                }
            )
            made += 1
    if rows:
        session.execute(ConversationSession.__table__.insert(), rows)
    session.flush()
    return made


def resplit_all(session: Session, gap: timedelta | None = None, batch: int = 500) -> int:
    """Re-split every conversation, ``batch`` conversations per query; returns the sessions."""
    gap = gap or session_gap()
    made = 0
    after = 0
    while True:
        ids = list(
            session.execute(
                select(Conversation.id)
                .where(Conversation.id > after)
                .order_by(Conversation.id)
                .limit(batch)
            ).scalars()
        )
        if not ids:
            return made
        made += resplit(session, ids, gap)
        after = ids[-1]


def session_count(session: Session) -> int:
    """How many sessions the store holds."""
    return int(session.execute(select(func.count(ConversationSession.id))).scalar_one())
