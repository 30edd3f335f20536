"""Readers' conversations counted as the dashboard counts them: channel sessions.

On Telegram, Slack and email one Rasa conversation (``sender_id``) is the whole history
of a chat, so counting ``conversations`` rows per reader misses every return. The
reader figures that count a reader's conversations (the churn list, repeat-reader
loyalty, the loyalty segments, who came back, cohort retention) count **channel
sessions** instead (``conversation_sessions``, :mod:`crm_store.sessions`), with the
dashboard's rule (:mod:`crm_store.session_facts`): a session is a conversation when
the reader wrote in it something other than an answer to a survey or a follow-up
(:data:`crm_store.session_facts.OUTREACH_ANSWERS`). A web chat session is normally its
whole conversation, so web chat counts do not change.

The reader is the conversation's (``conversations.reader_id``), not the copy on the
session row, which is not updated when a reader identifies later in the chat.

Everything here is one set-based query the caller aggregates; no per-reader loop.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.sql import ColumnElement, Select, Subquery

from crm_store.models import Conversation, Message, SenderKind
from crm_store.models.dashboard import ConversationSession
from crm_store.session_facts import OUTREACH_ANSWERS

__all__ = ["counted_sessions", "reader_session_span", "sessions_per_reader"]


def counted_sessions(*conditions: ColumnElement[bool]) -> Select:
    """Every session of a known reader that counts as a conversation.

    Columns: ``reader_id``, ``started_at``, ``ended_at``. ``conditions`` are added to
    the ``WHERE`` clause (on :class:`ConversationSession` or :class:`Conversation`).
    """
    wrote = (
        select(Message.id)
        .where(
            Message.conversation_id == ConversationSession.conversation_id,
            Message.sender_kind == SenderKind.READER,
            Message.sent_at >= ConversationSession.started_at,
            Message.sent_at <= ConversationSession.ended_at,
            or_(Message.intent.is_(None), Message.intent.not_in(sorted(OUTREACH_ANSWERS))),
        )
        .exists()
    )
    return (
        select(
            Conversation.reader_id.label("reader_id"),
            ConversationSession.started_at.label("started_at"),
            ConversationSession.ended_at.label("ended_at"),
        )
        .join(Conversation, Conversation.id == ConversationSession.conversation_id)
        .where(Conversation.reader_id.is_not(None), wrote, *conditions)
    )


def sessions_per_reader(since: datetime, until: datetime) -> Subquery:
    """Per known reader, the conversations (counted sessions) started in ``[since, until)``.

    Columns: ``reader_id`` and ``n`` (at least 1; readers with none are absent).
    """
    started = counted_sessions(
        ConversationSession.started_at >= since, ConversationSession.started_at < until
    ).subquery()
    return (
        select(started.c.reader_id, func.count().label("n"))
        .group_by(started.c.reader_id)
        .subquery()
    )


def reader_session_span(since: datetime, until: datetime) -> Subquery:
    """Per known reader, the counted sessions started in ``[since, until)`` and their span.

    Columns: ``reader_id``, ``n`` (at least 1; readers with none are absent),
    ``first_started_at`` (the earliest of those sessions' starts) and ``last_ended_at``
    (the latest of their ends: the reader's latest conversation activity).
    """
    started = counted_sessions(
        ConversationSession.started_at >= since, ConversationSession.started_at < until
    ).subquery()
    return (
        select(
            started.c.reader_id,
            func.count().label("n"),
            func.min(started.c.started_at).label("first_started_at"),
            func.max(started.c.ended_at).label("last_ended_at"),
        )
        .group_by(started.c.reader_id)
        .subquery()
    )
