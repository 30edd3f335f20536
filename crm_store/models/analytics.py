"""Reader-store tables written by the nightly analysis (``worker.analytics``).

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
