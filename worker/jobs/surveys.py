"""Job: one satisfaction survey (CSAT, 1 to 5) after each resolved conversation.

:mod:`worker.jobs.survey_schedule` says which conversations were resolved (by a
librarian, or by the bot) and schedules their surveys. This job sends each survey when
it is due, on the reader's own conversation (or their latest reachable one when that
channel cannot deliver), by triggering ``EXTERNAL_csat_survey`` in Rasa, which runs
the feedback form.

Exactly once: ``surveys.conversation_id`` is unique (one survey per conversation, ever)
and a survey is *claimed* (``UPDATE ... SET status='sending' WHERE status='scheduled'``,
:mod:`messaging.outbox`) before Rasa is called, so two workers never send the same one.
Skipped: the reader already left feedback on the conversation. Postponed: quiet hours
(``RIC_QUIET_HOURS``) and a conversation that became active again. A failed Rasa call
is retried every ``RETRY_DELAY`` up to ``MAX_ATTEMPTS`` times, then the survey is
``undeliverable``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Conversation, Feedback, Handoff, HandoffStatus
from crm_store.models.operations import Survey
from crm_store.models.statuses import SurveyStatus
from messaging.logs import conversation_scope
from messaging.outbox import (
    NO_CHANNEL,
    SENT,
    Outbox,
    SendCounts,
    attempt,
    claim,
    claimable,
    record_outcome,
    settle,
)
from messaging.outreach_store import link_survey_answer
from messaging.rasa_client import RasaClient
from worker.jobs._outreach import CLAIM_TIMEOUT, quiet_until, reachable_target, with_rasa
from worker.jobs._resources import store_sessions
from worker.jobs.survey_schedule import delay, schedule_bot_resolved, schedule_librarian_resolved

__all__ = ["MAX_ATTEMPTS", "RETRY_DELAY", "SURVEYS", "SURVEY_INTENT", "SurveyRun", "run_surveys"]

logger = logging.getLogger(__name__)

SURVEY_INTENT = "EXTERNAL_csat_survey"
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=5)
SURVEYS = Outbox(
    Survey,
    ready=SurveyStatus.SCHEDULED.value,
    gave_up=SurveyStatus.UNDELIVERABLE.value,
    max_attempts=MAX_ATTEMPTS,
    claim_timeout=CLAIM_TIMEOUT,
    count_attempts="claim",
)
"""The surveys' outbox: attempts are counted as a survey is claimed."""


@dataclass
class SurveyRun(SendCounts):
    """What one run of :func:`run_surveys` did (counts per outcome)."""

    scheduled: int = 0
    skipped: int = 0
    postponed: int = 0
    linked: int = 0
    sent_ids: list[int] = field(default_factory=list)


def _due(session: Session, current: datetime) -> list[int]:
    scheduled = claimable(SURVEYS, current, ready_when=Survey.scheduled_at <= current)
    rows = session.execute(
        select(Survey.id).where(scheduled).order_by(Survey.scheduled_at)
    ).scalars()
    return list(rows)


@dataclass(frozen=True)
class _Send:
    survey_id: int
    sender_id: str
    channel: str


def _prepare(session: Session, survey_id: int, current: datetime, run: SurveyRun) -> _Send | None:
    """Check one due survey; claim it and say where to send it, or settle it here."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        return None
    conversation = session.get(Conversation, survey.conversation_id)
    assert conversation is not None
    with conversation_scope(str(conversation.sender_id)):
        return _check(session, survey, conversation, current, run)


def _check(
    session: Session, survey: Survey, conversation: Conversation, current: datetime, run: SurveyRun
) -> _Send | None:
    """:func:`_prepare` once the survey's conversation is known."""
    survey_id = int(survey.id)
    answered_already = session.execute(
        select(Feedback.id).where(Feedback.conversation_id == conversation.id).limit(1)
    ).first()
    if answered_already is not None:
        run.skipped += settle(
            session,
            SURVEYS,
            survey_id,
            SurveyStatus.SKIPPED.value,
            "the reader already left feedback",
            only_from=SurveyStatus.SCHEDULED.value,
        )
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
        if claim(session, SURVEYS, survey_id, current):
            settle(session, SURVEYS, survey_id, SURVEYS.gave_up, NO_CHANNEL)
            run.undeliverable += 1
            logger.warning("survey %d undeliverable: no reachable channel", survey_id)
        return None
    if not claim(session, SURVEYS, survey_id, current):
        return None
    return _Send(survey_id, target.sender_id, target.channel)


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
    return bool(survey.resolved_by == "bot" and conversation.last_activity_at > survey.resolved_at)


def _record(
    sessions: sessionmaker[Session], send: _Send, error: str | None, run: SurveyRun
) -> None:
    current = clock.now()
    with sessions.begin() as session:
        survey = session.get(Survey, send.survey_id)
        assert survey is not None
        status = record_outcome(survey, SURVEYS, error, current)
        if status == SENT:
            survey.sent_sender_id = send.sender_id
            survey.sent_channel = send.channel
            run.sent += 1
            run.sent_ids.append(send.survey_id)
        elif status == SURVEYS.gave_up:
            run.undeliverable += 1
            tries = survey.attempts
            logger.warning("survey %d undeliverable after %d tries", send.survey_id, tries)
        else:
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
                with conversation_scope(send.sender_id):  # the conversation it goes to
                    trigger = client.trigger_intent(
                        send.sender_id, SURVEY_INTENT, output_channel=send.channel
                    )
                    error = await attempt(trigger, f"survey {send.survey_id}")
                    _record(factory, send, error, run)

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
