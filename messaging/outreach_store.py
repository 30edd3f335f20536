"""The records of what the library sends, shared by the worker, the actions and the console.

Staff notifications, survey answers, follow-ups and a reader's consent to reminders.
The caller owns the session (``with sessions.begin() as session:``). Nothing here
talks to Rasa or sends mail; the jobs in ``worker/jobs/`` do that.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import ChannelIdentity, Conversation, Feedback
from crm_store.models.operations import FollowUp, Notification, ReaderPreference, Survey
from crm_store.models.statuses import FollowUpStatus, SurveyStatus
from messaging.outbox import insert_once

__all__ = [
    "SURVEY_SOURCE",
    "link_survey_answer",
    "notify",
    "preference_view",
    "preferences_of",
    "reader_id_for_sender",
    "record_follow_up_answer",
    "schedule_follow_up",
    "set_preferences",
]

SURVEY_SOURCE = "csat_survey"
"""``Feedback.source`` of an answer to a satisfaction survey."""


def notify(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    subject: str,
    title: str,
    body: str | None = None,
    link: str | None = None,
    staff_user_id: int | None = None,
) -> Notification | None:
    """Add a console notification unless one with ``dedupe_key`` exists; return the new row.

    The unique key makes this safe to call twice, also from two workers at once: the
    loser's insert fails inside a savepoint and it gets None.
    """
    existing = session.execute(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return None
    row = Notification(
        dedupe_key=dedupe_key,
        kind=kind,
        subject=subject,
        title=title[:300],
        body=body,
        link=link,
        staff_user_id=staff_user_id,
        created_at=clock.now(),
    )
    return row if insert_once(session, row) else None


def link_survey_answer(session: Session, sender_id: str, feedback: Feedback) -> Survey | None:
    """Tie a rating given on ``sender_id`` to the survey sent there, if one is waiting.

    The feedback is re-filed under the surveyed conversation and its librarian (the
    survey may have reached the reader on another, more recent conversation). The
    caller vouches that the feedback was given after the survey went out (the bot's
    action calls this as the reader answers; the job's safety net filters by time).
    """
    survey: Survey | None = (
        session.execute(
            select(Survey)
            .where(
                Survey.sent_sender_id == sender_id,
                Survey.status == SurveyStatus.SENT.value,
                Survey.feedback_id.is_(None),
            )
            .order_by(Survey.sent_at.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    if survey is None:
        return None
    survey.feedback_id = feedback.id
    survey.status = SurveyStatus.ANSWERED.value
    feedback.conversation_id = survey.conversation_id
    feedback.source = SURVEY_SOURCE
    if survey.staff_user_id is not None:
        feedback.librarian_id = survey.staff_user_id
    conversation = session.get(Conversation, survey.conversation_id)
    if conversation is not None and conversation.reader_id is not None:
        feedback.reader_id = feedback.reader_id or conversation.reader_id
    session.flush()
    return survey


def schedule_follow_up(
    session: Session,
    *,
    conversation_id: int,
    staff_user_id: int | None,
    due: date,
    note: str | None,
) -> FollowUp:
    """Record a librarian's "follow up on <due>" for a conversation."""
    row: FollowUp = FollowUp(
        conversation_id=conversation_id,
        staff_user_id=staff_user_id,
        due_date=due,
        note=note or None,
        status=FollowUpStatus.SCHEDULED.value,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def record_follow_up_answer(
    session: Session, *, follow_up_id: int | None, sender_id: str, answer: str, text: str | None
) -> FollowUp | None:
    """Store the reader's yes/no to a follow-up and tell the librarian who asked for it.

    The follow-up is found by its id (passed through the bot's slot) or else as the
    latest one sent to ``sender_id``. Answering twice keeps the first answer.
    """
    row: FollowUp | None = None
    if follow_up_id is not None:
        row = session.get(FollowUp, follow_up_id)
    if row is None:
        row = (
            session.execute(
                select(FollowUp)
                .where(FollowUp.sent_sender_id == sender_id)
                .order_by(FollowUp.sent_at.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )
    if row is None or row.status != FollowUpStatus.SENT.value:
        return None
    current = clock.now()
    row.answer = answer
    row.answer_text = text
    row.answered_at = current
    row.status = FollowUpStatus.ANSWERED.value
    verdict = "sorted" if answer == "yes" else "NOT sorted"
    notify(
        session,
        dedupe_key=f"follow_up_answer:{row.id}",
        kind="follow_up_answer",
        subject=f"conversation:{row.conversation_id}",
        title=f"Follow-up answered: the reader says it is {verdict}",
        body=text,
        link=f"/conversations/{row.conversation_id}",
        staff_user_id=row.staff_user_id,
    )
    session.flush()
    return row


def reader_id_for_sender(session: Session, sender_id: str) -> int | None:
    """The reader behind a Rasa conversation id (its channel identity or its conversation)."""
    identity_reader = session.execute(
        select(ChannelIdentity.reader_id).where(ChannelIdentity.external_id == sender_id).limit(1)
    ).scalar_one_or_none()
    if identity_reader is not None:
        return int(identity_reader)
    conversation_reader = session.execute(
        select(Conversation.reader_id).where(Conversation.sender_id == sender_id)
    ).scalar_one_or_none()
    return int(conversation_reader) if conversation_reader is not None else None


def preferences_of(session: Session, reader_id: int) -> ReaderPreference | None:
    """The reader's reminder preferences, or None when they never chose."""
    row: ReaderPreference | None = (
        session.execute(select(ReaderPreference).where(ReaderPreference.reader_id == reader_id))
        .scalars()
        .first()
    )
    return row


def set_preferences(
    session: Session,
    reader_id: int,
    *,
    due_date_reminders: bool | None = None,
    hold_ready_notices: bool | None = None,
    reminder_days: int | None = None,
    library_patron_id: str | None = None,
    source: str,
) -> ReaderPreference:
    """Change a reader's reminder preferences; turning anything on records consent now.

    Turning everything off records the withdrawal time. ``source`` says who changed it
    (``bot``, ``console:<staff id>``, ``stop_button`` ...).
    """
    if reminder_days is not None and not 0 <= reminder_days <= 30:
        raise ValueError("reminder_days must be between 0 and 30")
    current: datetime = clock.now()
    row = preferences_of(session, reader_id)
    if row is None:
        row = ReaderPreference(
            reader_id=reader_id, due_date_reminders=False, hold_ready_notices=False
        )
        session.add(row)
    was_on = bool(row.due_date_reminders or row.hold_ready_notices)
    if due_date_reminders is not None:
        row.due_date_reminders = due_date_reminders
    if hold_ready_notices is not None:
        row.hold_ready_notices = hold_ready_notices
    if reminder_days is not None:
        row.reminder_days = reminder_days
    elif row.reminder_days is None:
        row.reminder_days = 3
    if library_patron_id:
        row.library_patron_id = library_patron_id
    now_on = bool(row.due_date_reminders or row.hold_ready_notices)
    if now_on and not was_on:
        row.consent_given_at = current
        row.consent_withdrawn_at = None
    elif was_on and not now_on:
        row.consent_withdrawn_at = current
    row.consent_source = source[:40]
    row.updated_at = current
    session.flush()
    return row


def preference_view(row: ReaderPreference | None, reader_id: int) -> dict[str, object]:
    """A reader's preferences as JSON (all off when they never chose)."""
    if row is None:
        return {
            "reader_id": reader_id,
            "due_date_reminders": False,
            "hold_ready_notices": False,
            "reminder_days": 3,
            "consent_given_at": None,
            "consent_withdrawn_at": None,
            "consent_source": None,
            "updated_at": None,
        }
    return {
        "reader_id": row.reader_id,
        "due_date_reminders": bool(row.due_date_reminders),
        "hold_ready_notices": bool(row.hold_ready_notices),
        "reminder_days": row.reminder_days,
        "consent_given_at": _iso(row.consent_given_at),
        "consent_withdrawn_at": _iso(row.consent_withdrawn_at),
        "consent_source": row.consent_source,
        "updated_at": _iso(row.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
