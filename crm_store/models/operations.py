"""The tables the worker, the channels and the nightly analysis keep.

**Outreach**: the tables of the worker's jobs (migration 0004).

``surveys``            one satisfaction survey per conversation (unique), claimed before sending
``follow_ups``         a librarian's "follow up on <date>" and the reader's answer
``notifications``      console notifications for staff (ticket reminders, follow-up answers)
``reader_preferences`` a reader's consent to reminders, one row per reader
``sent_reminders``     every due-date reminder and hold notice, unique per loan/hold and date

Every table that records something sent has a status column and a unique key, so that a
job run twice (or by two workers) sends nothing twice: a row is *claimed* with a
conditional ``UPDATE ... WHERE status = ...`` (or inserted under its unique key) before
anything leaves the building.

**Channels**: the tables shared by the Telegram, Slack and email connectors.

``inbound_receipts`` remembers every platform delivery id a connector has accepted,
so that a webhook retried by Telegram or Slack, or a mail fetched twice, is processed
once even across restarts. ``email_messages`` maps every Message-ID of an email
thread (inbound and outbound) to the Rasa conversation that thread belongs to, and
keeps the numbered options each outbound mail offered.

**Analytics**: the tables written by the nightly analysis (``worker.analytics``).

Every table holds figures only: counts, sums and scores, with readers referred to by
their id. Re-running the analysis for a day replaces that day's rows.

``daily_metrics``
    one row per (day, channel), plus the channel ``all``: the numerators and
    denominators of every daily figure, so that a range of days aggregates exactly.
``analysis_runs``
    one row per analysis day: when it ran, its parameters, loyalty and churn counts.
``churned_readers``
    the churn list of one run: reader ids, their last activity and conversation count.
``question_clusters``
    one run's clusters of questions the bot could not answer: label, size, examples.
``retention_runs``
    one row per retention day: the cut-off and how many rows were anonymised.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from crm_store.models.core import (
    Base,
    Conversation,
    Feedback,
    Handoff,
    Message,
    RawEvent,
    UtcDateTime,
    utcnow,
)
from crm_store.models.statuses import FollowUpStatus, ReminderStatus, SurveyStatus


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


class InboundReceipt(Base):
    """One platform delivery (an update id, an event id, a Message-ID) already accepted."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_receipt_channel"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(40), nullable=False)
    external_id = Column(String(512), nullable=False)
    received_at = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


class EmailMessage(Base):
    """One Message-ID of an email thread and the Rasa sender id of its conversation."""

    __tablename__ = "email_messages"

    id = Column(Integer, primary_key=True)
    message_id = Column(String(512), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    direction = Column(String(3), nullable=False)
    address = Column(String(320), nullable=False, index=True)
    subject = Column(String(998), nullable=True)
    # Outbound mails only: the buttons offered as numbered options, in order, so that a
    # reply of "2" maps to the second one's payload even after a restart.
    buttons = Column(JSON, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


ALL_CHANNELS = "all"
"""The ``channel`` value of the rows that cover every channel together."""


class DailyMetric(Base):
    """The figures of one day on one channel (or on ``all``); see docs/analytics.md."""

    __tablename__ = "daily_metrics"
    __table_args__ = (UniqueConstraint("day", "channel", name="uq_daily_metrics_day_channel"),)

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    complete = Column(Boolean, nullable=False, default=False)
    conversations = Column(Integer, nullable=False, default=0)
    contained_conversations = Column(Integer, nullable=False, default=0)
    handoff_conversations = Column(Integer, nullable=False, default=0)
    handoffs = Column(Integer, nullable=False, default=0)
    abandoned_handoffs = Column(Integer, nullable=False, default=0)
    responded_handoffs = Column(Integer, nullable=False, default=0)
    first_response_seconds_sum = Column(Float, nullable=False, default=0.0)
    first_response_seconds_median = Column(Float, nullable=True)
    resolved_handoffs = Column(Integer, nullable=False, default=0)
    resolution_seconds_sum = Column(Float, nullable=False, default=0.0)
    resolution_seconds_median = Column(Float, nullable=True)
    ratings = Column(Integer, nullable=False, default=0)
    positive_ratings = Column(Integer, nullable=False, default=0)
    rating_sum = Column(Integer, nullable=False, default=0)
    surveys_sent = Column(Integer, nullable=False, default=0)
    surveys_answered = Column(Integer, nullable=False, default=0)
    reader_messages = Column(Integer, nullable=False, default=0)
    fallback_messages = Column(Integer, nullable=False, default=0)
    comments = Column(Integer, nullable=False, default=0)
    positive_comments = Column(Integer, nullable=False, default=0)
    negative_comments = Column(Integer, nullable=False, default=0)
    sentiment_sum = Column(Float, nullable=False, default=0.0)
    computed_at = Column(UtcDateTime, nullable=False, default=utcnow)


class AnalysisRun(Base):
    """One nightly analysis: its day, parameters, and the figures not kept per channel."""

    __tablename__ = "analysis_runs"

    day = Column(Date, primary_key=True)
    started_at = Column(UtcDateTime, nullable=False)
    finished_at = Column(UtcDateTime, nullable=False)
    parameters = Column(JSON, nullable=False)
    churn_active_days = Column(Integer, nullable=False)
    churn_quiet_days = Column(Integer, nullable=False)
    churned_readers = Column(Integer, nullable=False, default=0)
    loyalty_window_days = Column(Integer, nullable=False)
    active_readers = Column(Integer, nullable=False, default=0)
    repeat_readers = Column(Integer, nullable=False, default=0)
    loyalty_conversations = Column(Integer, nullable=False, default=0)
    unanswered_questions = Column(Integer, nullable=False, default=0)
    clustered_questions = Column(Integer, nullable=False, default=0)


class ChurnedReader(Base):
    """A reader on one run's churn list; personal data stays in ``readers``."""

    __tablename__ = "churned_readers"
    __table_args__ = (UniqueConstraint("run_day", "reader_id", name="uq_churned_run_reader"),)

    id = Column(Integer, primary_key=True)
    run_day = Column(Date, ForeignKey("analysis_runs.day", ondelete="CASCADE"), nullable=False)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=False)
    last_active_at = Column(UtcDateTime, nullable=False)
    conversations = Column(Integer, nullable=False)


class QuestionCluster(Base):
    """A group of similar reader questions the bot could not answer, from one run."""

    __tablename__ = "question_clusters"
    __table_args__ = (UniqueConstraint("run_day", "rank", name="uq_question_clusters_rank"),)

    id = Column(Integer, primary_key=True)
    run_day = Column(Date, ForeignKey("analysis_runs.day", ondelete="CASCADE"), nullable=False)
    rank = Column(Integer, nullable=False)
    label = Column(String(200), nullable=False)
    size = Column(Integer, nullable=False)
    terms = Column(JSON, nullable=False)
    examples = Column(JSON, nullable=False)
    channels = Column(JSON, nullable=False)
    first_seen_at = Column(UtcDateTime, nullable=False)
    last_seen_at = Column(UtcDateTime, nullable=False)


class RetentionRun(Base):
    """One retention pass: the cut-off and how many rows of each kind it anonymised."""

    __tablename__ = "retention_runs"

    day = Column(Date, primary_key=True)
    ran_at = Column(UtcDateTime, nullable=False)
    cutoff = Column(UtcDateTime, nullable=False)
    retention_days = Column(Integer, nullable=False)
    counts = Column(JSON, nullable=False)
    note = Column(Text, nullable=True)


# The analysis and retention select rows of existing tables by time (one day, or older
# than the cut-off); these indexes, created by migration 0005, keep that off full scans.
Index("ix_raw_events_timestamp", RawEvent.timestamp)
Index("ix_raw_events_type_time", RawEvent.type_name, RawEvent.timestamp)
Index("ix_messages_sent_at", Message.sent_at)
Index("ix_conversations_started_at", Conversation.started_at)
Index("ix_handoffs_requested_at", Handoff.requested_at)
Index("ix_feedback_created_at", Feedback.created_at)
