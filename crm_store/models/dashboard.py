"""The manager dashboard's tables (issue 17): channel sessions and the rollups.

``conversation_sessions``
    One conversation as a reader experiences it: a run of messages in one Rasa
    conversation (``conversations.sender_id``) with no gap longer than the session
    inactivity period (``RIC_SESSION_INACTIVITY_MINUTES``). A Telegram, Slack or email
    chat is one Rasa conversation forever; its sessions are what the dashboard counts.
    Ingestion opens and extends sessions (:mod:`crm_store.sessions`); the worker's
    rollup job fills each session's facts (intent, language, branch, handoff, rating,
    containment) for the days it recomputes.
``dashboard_rollups``
    One row per (library-local day, hour, channel, branch, language, intent): additive
    counts and sums of the sessions that started then, so that any period and filter
    aggregates exactly from a few thousand rows instead of the messages.
``dashboard_daily_rollups``
    The same sums per (day, channel, branch, language, intent), plus what the overview
    and the heatmap would otherwise read from the larger tables (migration 0012): the
    conversations per local hour (``hour_00`` … ``hour_23``; the day fixes the weekday)
    and the first-response and resolution seconds of the handed-off sessions
    (comma-separated numbers, for the medians), so that a 365-day overview or heatmap
    reads about 40 rows a day.
"""

from __future__ import annotations

from sqlalchemy import (
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

from crm_store.models.core import Base, UtcDateTime, utcnow

__all__ = [
    "DURATION_LISTS",
    "HANDOFF_COVER",
    "HOUR_COLUMNS",
    "ROLLUP_MEASURES",
    "UNKNOWN",
    "ConversationSession",
    "DashboardDailyRollup",
    "DashboardRollup",
]

UNKNOWN = "unknown"
"""The branch, language or intent of a session that has none."""


HANDOFF_COVER = (
    "handoff",
    "day",
    "intent",
    "channel",
    "branch",
    "language",
    "librarian_id",
    "handoff_reason",
    "first_response_seconds",
    "rating",
    "started_at",
)
"""The columns of the covering index of handed-off sessions' reads."""


class ConversationSession(Base):
    """One channel session: the messages of a conversation between two silences."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_conversation_sessions_seq"),
        Index("ix_conversation_sessions_day_hour", "day", "hour"),
        Index("ix_conversation_sessions_reader_started", "reader_id", "started_at"),
        # Covers the medians' and the drill-down's reads of handed-off sessions.
        Index(
            "ix_conversation_sessions_handoff_day",
            "handoff",
            "day",
            "intent",
            "first_response_seconds",
            "resolution_seconds",
            "started_at",
        ),
        # Covers the handoff-reasons and workload charts under any filter (issue 17 perf).
        Index("ix_conversation_sessions_handoff_cover", *HANDOFF_COVER),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    seq = Column(Integer, nullable=False)
    channel = Column(String(40), nullable=False)
    reader_id = Column(Integer, nullable=True)
    started_at = Column(UtcDateTime, nullable=False, index=True)
    ended_at = Column(UtcDateTime, nullable=False)
    # Facts, filled by the rollup job (None until then).
    day = Column(Date, nullable=True)
    hour = Column(Integer, nullable=True)
    language = Column(String(16), nullable=True)
    branch = Column(String(80), nullable=True)
    intent = Column(String(120), nullable=True)
    reader_messages = Column(Integer, nullable=True)
    fallback_messages = Column(Integer, nullable=True)
    handoff = Column(Boolean, nullable=True)
    handoff_reason = Column(String(200), nullable=True)
    librarian_id = Column(Integer, nullable=True, index=True)
    first_response_seconds = Column(Float, nullable=True)
    resolution_seconds = Column(Float, nullable=True)
    rating = Column(Integer, nullable=True)
    returned = Column(Boolean, nullable=True)
    contained = Column(Boolean, nullable=True)
    computed_at = Column(UtcDateTime, nullable=True)


ROLLUP_MEASURES = (
    "conversations",
    "contained",
    "handoffs",
    "reader_messages",
    "fallback_messages",
    "ratings",
    "positive_ratings",
    "rating_sum",
    "responded",
    "first_response_sum",
    "resolved",
    "resolution_sum",
)
"""The additive columns of ``dashboard_rollups``, in order."""


class _Measures:
    """The additive columns shared by the hourly and the daily rollups."""

    conversations = Column(Integer, nullable=False, default=0)
    contained = Column(Integer, nullable=False, default=0)
    handoffs = Column(Integer, nullable=False, default=0)
    reader_messages = Column(Integer, nullable=False, default=0)
    fallback_messages = Column(Integer, nullable=False, default=0)
    ratings = Column(Integer, nullable=False, default=0)
    positive_ratings = Column(Integer, nullable=False, default=0)
    rating_sum = Column(Integer, nullable=False, default=0)
    responded = Column(Integer, nullable=False, default=0)
    first_response_sum = Column(Float, nullable=False, default=0.0)
    resolved = Column(Integer, nullable=False, default=0)
    resolution_sum = Column(Float, nullable=False, default=0.0)
    computed_at = Column(UtcDateTime, nullable=False, default=utcnow)


class DashboardRollup(_Measures, Base):
    """The sums of the sessions that started in one local hour with one set of keys."""

    __tablename__ = "dashboard_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day", "hour", "channel", "branch", "language", "intent", name="uq_dashboard_rollups"
        ),
    )

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    hour = Column(Integer, nullable=False)
    channel = Column(String(40), nullable=False)
    branch = Column(String(80), nullable=False)
    language = Column(String(16), nullable=False)
    intent = Column(String(120), nullable=False)


HOUR_COLUMNS = tuple(f"hour_{hour:02d}" for hour in range(24))
"""The daily rollups' conversations per local hour, in hour order."""
DURATION_LISTS = ("first_response_values", "resolution_values")
"""The daily rollups' handed-off sessions' seconds, comma-separated (null when none)."""


class _DailyExtras:
    """The daily rollups' hour counts and duration lists (see the module docstring)."""

    first_response_values = Column(Text, nullable=True)
    resolution_values = Column(Text, nullable=True)


for _column in HOUR_COLUMNS:
    setattr(_DailyExtras, _column, Column(Integer, nullable=False, default=0))


class DashboardDailyRollup(_Measures, _DailyExtras, Base):
    """The same sums per local day (no hour), its hour counts and handed-off durations."""

    __tablename__ = "dashboard_daily_rollups"
    __table_args__ = (
        UniqueConstraint(
            "day", "channel", "branch", "language", "intent", name="uq_dashboard_daily_rollups"
        ),
    )

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    branch = Column(String(80), nullable=False)
    language = Column(String(16), nullable=False)
    intent = Column(String(120), nullable=False)
