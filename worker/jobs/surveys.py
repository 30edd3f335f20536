"""Job: one satisfaction survey (CSAT, 1 to 5) after each resolved conversation.

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
``RIC_SURVEY_DELAY_MINUTES`` (60) after the resolution, sent on the reader's own
conversation (or their latest reachable one when that channel cannot deliver) by
triggering ``EXTERNAL_csat_survey`` in Rasa, which runs the feedback form.

Exactly once: ``surveys.conversation_id`` is unique (one survey per conversation, ever)
and a survey is *claimed* (``UPDATE ... SET status='sending' WHERE status='scheduled'``)
before Rasa is called, so two workers never send the same one. Skipped: the reader
already left feedback on the conversation. Postponed: quiet hours (``RIC_QUIET_HOURS``)
and a conversation that became active again. A failed Rasa call is retried every
``RETRY_DELAY`` up to ``MAX_ATTEMPTS`` times, then the survey is ``undeliverable``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import (
    Conversation,
    ConversationStatus,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    SenderKind,
)
from crm_store.models.worker import Survey, SurveyStatus
from messaging.outreach_store import link_survey_answer
from messaging.rasa_client import RasaClient, RasaError
from worker.jobs._outreach import (
    CLAIM_TIMEOUT,
    env_flag,
    env_int,
    quiet_until,
    reachable_target,
    with_rasa,
)
from worker.jobs._resources import store_sessions

logger = logging.getLogger(__name__)

SURVEY_INTENT = "EXTERNAL_csat_survey"
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=5)
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


@dataclass
class SurveyRun:
    """What one run of :func:`run_surveys` did (counts per outcome)."""

    scheduled: int = 0
    sent: int = 0
    skipped: int = 0
    postponed: int = 0
    failed: int = 0
    undeliverable: int = 0
    linked: int = 0
    sent_ids: list[int] = field(default_factory=list)


def delay() -> timedelta:
    """``RIC_SURVEY_DELAY_MINUTES`` (60) after the resolution."""
    return timedelta(minutes=env_int("RIC_SURVEY_DELAY_MINUTES", 60))


def _lookback_start(current: datetime) -> datetime:
    return current - timedelta(hours=env_int("RIC_SURVEY_LOOKBACK_HOURS", 72))


def _insert_survey(session: Session, survey: Survey) -> bool:
    try:
        with session.begin_nested():
            session.add(survey)
            session.flush()
    except IntegrityError:
        # Another worker (or an earlier run) scheduled this conversation first.
        return False
    return True


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
        survey = Survey(
            conversation_id=conversation_id,
            staff_user_id=librarian_id,
            resolved_by="librarian",
            resolved_at=resolved_at,
            scheduled_at=resolved_at + delay(),
            status=SurveyStatus.SCHEDULED.value,
            attempts=0,
            created_at=current,
        )
        done += _insert_survey(session, survey)
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
    outreach_after = session.execute(
        select(Message.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender_kind == SenderKind.READER,
            Message.intent.startswith("EXTERNAL_"),
            Message.sent_at > request,
        )
        .limit(1)
    ).first()
    if outreach_after is not None:
        return None
    answered = session.execute(
        select(Message.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender_kind == SenderKind.BOT,
            Message.sent_at >= request,
        )
        .limit(1)
    ).first()
    return conversation.last_activity_at if answered is not None else None


def schedule_bot_resolved(session: Session, current: datetime) -> int:
    """Schedule surveys for conversations the bot resolved (see the module docstring)."""
    if not env_flag("RIC_SURVEY_BOT_RESOLVED", True):
        return 0
    idle = timedelta(minutes=env_int("RIC_SURVEY_BOT_IDLE_MINUTES", 30))
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
        survey = Survey(
            conversation_id=conversation.id,
            staff_user_id=None,
            resolved_by="bot",
            resolved_at=resolved_at,
            scheduled_at=resolved_at + delay(),
            status=SurveyStatus.SCHEDULED.value,
            attempts=0,
            created_at=current,
        )
        done += _insert_survey(session, survey)
    return done


def _due(session: Session, current: datetime) -> list[int]:
    rows = session.execute(
        select(Survey.id)
        .where(
            ((Survey.status == SurveyStatus.SCHEDULED.value) & (Survey.scheduled_at <= current))
            | (
                (Survey.status == SurveyStatus.SENDING.value)
                & (Survey.claimed_at < current - CLAIM_TIMEOUT)
            )
        )
        .order_by(Survey.scheduled_at)
    ).scalars()
    return list(rows)


def _claim(session: Session, survey_id: int, current: datetime) -> bool:
    """Take the survey for this worker; False when another worker already did."""
    result = session.execute(
        update(Survey)
        .where(
            Survey.id == survey_id,
            (Survey.status == SurveyStatus.SCHEDULED.value)
            | (
                (Survey.status == SurveyStatus.SENDING.value)
                & (Survey.claimed_at < current - CLAIM_TIMEOUT)
            ),
        )
        .values(status=SurveyStatus.SENDING.value, claimed_at=current, attempts=Survey.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class _Send:
    survey_id: int
    sender_id: str
    channel: str
    attempts: int


def _prepare(session: Session, survey_id: int, current: datetime, run: SurveyRun) -> _Send | None:
    """Check one due survey; claim it and say where to send it, or settle it here."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        return None
    conversation = session.get(Conversation, survey.conversation_id)
    assert conversation is not None
    answered_already = session.execute(
        select(Feedback.id).where(Feedback.conversation_id == conversation.id).limit(1)
    ).first()
    if answered_already is not None:
        skipped = session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.status == SurveyStatus.SCHEDULED.value)
            .values(
                status=SurveyStatus.SKIPPED.value, last_error="the reader already left feedback"
            )
            .execution_options(synchronize_session=False)
        )
        run.skipped += skipped.rowcount
        return None
    if _busy_again(session, survey, conversation):
        survey.scheduled_at = max(conversation.last_activity_at, current) + delay()
        if survey.resolved_by == "bot":
            survey.resolved_at = conversation.last_activity_at
        run.postponed += 1
        return None
    quiet_end = quiet_until(current)
    if quiet_end is not None:
        survey.scheduled_at = quiet_end
        run.postponed += 1
        return None
    target = reachable_target(session, conversation)
    if target is None:
        if _claim(session, survey_id, current):
            survey = session.get(Survey, survey_id, populate_existing=True)
            assert survey is not None
            survey.status = SurveyStatus.UNDELIVERABLE.value
            survey.last_error = "the reader has no reachable channel"
            run.undeliverable += 1
            logger.warning("survey %d undeliverable: no reachable channel", survey_id)
        return None
    if not _claim(session, survey_id, current):
        return None
    return _Send(survey_id, target.sender_id, target.channel, int(survey.attempts or 0) + 1)


def _busy_again(session: Session, survey: Survey, conversation: Conversation) -> bool:
    """Whether the conversation is in a librarian's hands or (bot) active again."""
    open_handoff = session.execute(
        select(Handoff.id)
        .where(
            Handoff.conversation_id == conversation.id,
            Handoff.status.in_([HandoffStatus.WAITING, HandoffStatus.CLAIMED]),
        )
        .limit(1)
    ).first()
    if open_handoff is not None:
        return True
    return survey.resolved_by == "bot" and conversation.last_activity_at > survey.resolved_at


def _record(
    sessions: sessionmaker[Session], send: _Send, error: RasaError | None, run: SurveyRun
) -> None:
    current = clock.now()
    with sessions.begin() as session:
        survey = session.get(Survey, send.survey_id)
        assert survey is not None
        if error is None:
            survey.status = SurveyStatus.SENT.value
            survey.sent_at = current
            survey.sent_sender_id = send.sender_id
            survey.sent_channel = send.channel
            survey.last_error = None
            run.sent += 1
            run.sent_ids.append(send.survey_id)
            return
        survey.last_error = str(error)[:500]
        if send.attempts >= MAX_ATTEMPTS:
            survey.status = SurveyStatus.UNDELIVERABLE.value
            run.undeliverable += 1
            logger.warning("survey %d undeliverable after %d tries", send.survey_id, send.attempts)
        else:
            survey.status = SurveyStatus.SCHEDULED.value
            survey.scheduled_at = current + RETRY_DELAY
            run.failed += 1


def link_answers(session: Session) -> int:
    """Safety net: tie sent surveys to ratings the bot stored but could not link."""
    rows = session.execute(
        select(Survey.sent_sender_id, Survey.sent_at).where(
            Survey.status == SurveyStatus.SENT.value,
            Survey.feedback_id.is_(None),
            Survey.sent_sender_id.is_not(None),
        )
    ).all()
    linked = 0
    for sender_id, sent_at in rows:
        feedback = (
            session.execute(
                select(Feedback)
                .join(Conversation, Conversation.id == Feedback.conversation_id)
                .where(Conversation.sender_id == sender_id, Feedback.created_at >= sent_at)
                .order_by(Feedback.created_at)
                .limit(1)
            )
            .scalars()
            .first()
        )
        if feedback is not None and link_survey_answer(session, str(sender_id), feedback):
            linked += 1
    return linked


def run_surveys(
    sessions: sessionmaker[Session] | None = None, rasa: RasaClient | None = None
) -> SurveyRun:
    """Schedule, send and link satisfaction surveys; safe to run any number of times."""
    factory = sessions or store_sessions()
    run = SurveyRun()
    current = clock.now()
    with factory.begin() as session:
        run.scheduled += schedule_librarian_resolved(session, current)
        run.scheduled += schedule_bot_resolved(session, current)
        run.linked += link_answers(session)
    with factory() as session:
        due = _due(session, current)
    sends: list[_Send] = []
    for survey_id in due:
        with factory.begin() as session:
            send = _prepare(session, survey_id, current, run)
        if send is not None:
            sends.append(send)
    if sends:

        async def deliver(client: RasaClient) -> None:
            for send in sends:
                try:
                    await client.trigger_intent(
                        send.sender_id, SURVEY_INTENT, output_channel=send.channel
                    )
                except RasaError as error:
                    logger.warning("survey %d not sent yet: %s", send.survey_id, error)
                    _record(factory, send, error, run)
                    continue
                _record(factory, send, None, run)

        with_rasa(deliver, rasa)
    if run.sent or run.scheduled or run.undeliverable:
        logger.info(
            "surveys: %d scheduled, %d sent, %d skipped, %d undeliverable",
            run.scheduled,
            run.sent,
            run.skipped,
            run.undeliverable,
        )
    return run
