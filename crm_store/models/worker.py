"""Reader-store tables of the worker's jobs (migration 0004).

``surveys``            one satisfaction survey per conversation (unique), claimed before sending
``follow_ups``         a librarian's "follow up on <date>" and the reader's answer
``notifications``      console notifications for staff (ticket reminders, follow-up answers)
``reader_preferences`` a reader's consent to reminders, one row per reader
``sent_reminders``     every due-date reminder and hold notice, unique per loan/hold and date

Every table that records something sent has a status column and a unique key, so that a
job run twice (or by two workers) sends nothing twice: a row is *claimed* with a
conditional ``UPDATE ... WHERE status = ...`` (or inserted under its unique key) before
anything leaves the building.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from crm_store.models.core import Base, UtcDateTime, utcnow


class SurveyStatus(str, enum.Enum):
    """Where a survey stands."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    UNDELIVERABLE = "undeliverable"


class FollowUpStatus(str, enum.Enum):
    """Where a follow-up stands."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    UNDELIVERABLE = "undeliverable"


class ReminderStatus(str, enum.Enum):
    """Where a reminder stands."""

    SENDING = "sending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"


class Survey(Base):
    """One satisfaction survey for one resolved conversation."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_status_scheduled", "status", "scheduled_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, unique=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    resolved_by = Column(String(20), nullable=False)
    resolved_at = Column(UtcDateTime, nullable=False)
    scheduled_at = Column(UtcDateTime, nullable=False)
    status = Column(String(20), nullable=False, default=SurveyStatus.SCHEDULED.value)
    claimed_at = Column(UtcDateTime, nullable=True)
    sent_at = Column(UtcDateTime, nullable=True)
    sent_sender_id = Column(String(255), nullable=True)
    sent_channel = Column(String(40), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    feedback_id = Column(Integer, ForeignKey("feedback.id"), nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class FollowUp(Base):
    """A librarian's request to check back with the reader on a given day."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_status_due", "status", "due_date"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    due_date = Column(Date, nullable=False)
    note = Column(Text, nullable=True)
    status = Column(String(20), nullable=False, default=FollowUpStatus.SCHEDULED.value)
    claimed_at = Column(UtcDateTime, nullable=True)
    sent_at = Column(UtcDateTime, nullable=True)
    sent_sender_id = Column(String(255), nullable=True)
    sent_channel = Column(String(40), nullable=True)
    answer = Column(String(10), nullable=True)
    answer_text = Column(Text, nullable=True)
    answered_at = Column(UtcDateTime, nullable=True)
    last_error = Column(Text, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Notification(Base):
    """A message to staff in the console; ``staff_user_id`` None means every librarian."""

    __tablename__ = "notifications"

    id = Column(Integer, primary_key=True)
    dedupe_key = Column(String(200), nullable=False, unique=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True, index=True)
    kind = Column(String(40), nullable=False)
    subject = Column(String(120), nullable=False)
    title = Column(String(300), nullable=False)
    body = Column(Text, nullable=True)
    link = Column(String(300), nullable=True)
    email_status = Column(String(20), nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    read_at = Column(UtcDateTime, nullable=True)


class ReaderPreference(Base):
    """What a reader agreed to receive; nothing is sent without a row saying yes."""

    __tablename__ = "reader_preferences"

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=False, unique=True)
    due_date_reminders = Column(Boolean, nullable=False, default=False)
    hold_ready_notices = Column(Boolean, nullable=False, default=False)
    reminder_days = Column(Integer, nullable=False, default=3)
    library_patron_id = Column(String(64), nullable=True)
    consent_given_at = Column(UtcDateTime, nullable=True)
    consent_withdrawn_at = Column(UtcDateTime, nullable=True)
    consent_source = Column(String(40), nullable=True)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SentReminder(Base):
    """One due-date reminder or hold notice; the unique key makes it once only."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("reader_id", "kind", "item_key", name="uq_sent_reminder"),)

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    item_key = Column(String(200), nullable=False)
    status = Column(String(20), nullable=False, default=ReminderStatus.SENDING.value)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True)
    text = Column(Text, nullable=True)
    last_error = Column(Text, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    sent_at = Column(UtcDateTime, nullable=True)
