"""Scheduling satisfaction surveys: which conversations were resolved, and by whom.

A conversation counts as **resolved**

- *by a librarian* when its latest handoff is ``resolved`` (the console's resolve
  button); the survey names that librarian;
- *by the bot* (``RIC_SURVEY_BOT_RESOLVED``, on by default) when the reader asked the
  bot something (a reader message whose intent is a real request, not a greeting,
  thanks, yes/no, feedback, consent or an ``EXTERNAL_`` trigger), the bot answered,
  no handoff is open and the conversation has then been idle for
  ``RIC_SURVEY_BOT_IDLE_MINUTES`` (30).

Only resolutions in the last ``RIC_SURVEY_LOOKBACK_HOURS`` (72) are considered, so
switching surveys on does not survey the whole history. The survey is scheduled
``RIC_SURVEY_DELAY_MINUTES`` (60) after the resolution; :mod:`worker.jobs.surveys`
sends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from crm_store.models import Conversation, ConversationStatus, Handoff, HandoffStatus
from crm_store.models.core import Message
from crm_store.models.operations import Survey
from crm_store.models.statuses import SenderKind, SurveyStatus
from messaging.outbox import insert_once
from ric_config import WorkerConfig

__all__ = [
    "NOT_A_REQUEST",
    "delay",
    "schedule_bot_resolved",
    "schedule_librarian_resolved",
]

NOT_A_REQUEST = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "give_feedback",
        "inform",
        "subscribe_reminders",
        "stop_reminders",
        "nlu_fallback",
        "session_start",
    }
)
"""Reader intents that do not make a conversation something the bot resolved."""


def delay() -> timedelta:
    """``RIC_SURVEY_DELAY_MINUTES`` (60) after the resolution."""
    return timedelta(minutes=WorkerConfig().survey_delay_minutes)


def _lookback_start(current: datetime) -> datetime:
    return current - timedelta(hours=WorkerConfig().survey_lookback_hours)


def _schedule(
    session: Session,
    conversation_id: int,
    staff_user_id: int | None,
    resolved_by: str,
    resolved_at: datetime,
    current: datetime,
) -> bool:
    """Schedule the conversation's survey; False when it already has one.

    ``surveys.conversation_id`` is unique: when another worker (or an earlier run)
    scheduled this conversation first, the insert loses quietly.
    """
    survey = Survey(
        conversation_id=conversation_id,
        staff_user_id=staff_user_id,
        resolved_by=resolved_by,
        resolved_at=resolved_at,
        scheduled_at=resolved_at + delay(),
        status=SurveyStatus.SCHEDULED.value,
        attempts=0,
        created_at=current,
    )
    return insert_once(session, survey)


def schedule_librarian_resolved(session: Session, current: datetime) -> int:
    """Schedule surveys for conversations whose latest handoff a librarian resolved."""
    latest = (
        select(Handoff.conversation_id, func.max(Handoff.requested_at).label("requested_at"))
        .group_by(Handoff.conversation_id)
        .subquery()
    )
    surveyed = exists().where(Survey.conversation_id == Handoff.conversation_id)
    rows = session.execute(
        select(Handoff.conversation_id, Handoff.librarian_id, Handoff.resolved_at)
        .join(
            latest,
            (latest.c.conversation_id == Handoff.conversation_id)
            & (latest.c.requested_at == Handoff.requested_at),
        )
        .where(
            Handoff.status == HandoffStatus.RESOLVED,
            Handoff.resolved_at.is_not(None),
            Handoff.resolved_at >= _lookback_start(current),
            ~surveyed,
        )
    ).all()
    done = 0
    seen: set[int] = set()
    for conversation_id, librarian_id, resolved_at in rows:
        if conversation_id in seen:
            continue
        seen.add(conversation_id)
        done += _schedule(session, conversation_id, librarian_id, "librarian", resolved_at, current)
    return done


def _bot_resolved_at(
    session: Session, conversation: Conversation, since: datetime
) -> datetime | None:
    """When the bot resolved ``conversation`` (its last activity), or None if it did not.

    The reader's latest real request must be recent (after ``since``), answered by the
    bot, and not followed by a message the worker started (a reminder or follow-up
    makes a conversation active, not resolved).
    """
    request = session.execute(
        select(Message.sent_at)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender_kind == SenderKind.READER,
            Message.intent.is_not(None),
            Message.intent.not_in(NOT_A_REQUEST),
            ~Message.intent.startswith("EXTERNAL_"),
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if request is None or request < since:
        return None
    outreach_after = _has_message(
        session,
        conversation.id,
        Message.sender_kind == SenderKind.READER,
        Message.intent.startswith("EXTERNAL_"),
        Message.sent_at > request,
    )
    if outreach_after:
        return None
    answered = _has_message(
        session, conversation.id, Message.sender_kind == SenderKind.BOT, Message.sent_at >= request
    )
    return conversation.last_activity_at if answered else None


def _has_message(session: Session, conversation_id: int, *conditions: Any) -> bool:
    """Whether the conversation has a message that meets every one of ``conditions``."""
    found = session.execute(
        select(Message.id).where(Message.conversation_id == conversation_id, *conditions).limit(1)
    ).first()
    return found is not None


def schedule_bot_resolved(session: Session, current: datetime) -> int:
    """Schedule surveys for conversations the bot resolved (see the module docstring)."""
    if not WorkerConfig().survey_bot_resolved:
        return 0
    idle = timedelta(minutes=WorkerConfig().survey_bot_idle_minutes)
    any_handoff = exists().where(Handoff.conversation_id == Conversation.id)
    surveyed = exists().where(Survey.conversation_id == Conversation.id)
    candidates = (
        session.execute(
            select(Conversation).where(
                Conversation.status == ConversationStatus.ACTIVE,
                Conversation.last_activity_at >= _lookback_start(current),
                Conversation.last_activity_at <= current - idle,
                ~any_handoff,
                ~surveyed,
            )
        )
        .scalars()
        .all()
    )
    done = 0
    for conversation in candidates:
        resolved_at = _bot_resolved_at(session, conversation, _lookback_start(current))
        if resolved_at is None:
            continue
        done += _schedule(session, conversation.id, None, "bot", resolved_at, current)
    return done
