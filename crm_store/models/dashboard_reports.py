"""The tables of issue 17's reader intelligence and weekly report (migration 0010, part 2).

``report_subscriptions``
    one row per staff member who asked for the weekly report by email (a manager or an
    admin); ``active`` false keeps the row but sends nothing.
``weekly_reports``
    one row per (week, staff member) the worker has claimed: the claim is the unique
    key, so a report is sent at most once per week even with two workers; the status
    follows the outbox's steps (``sending`` → ``sent``, or back to ``pending`` with
    the error for a retry, ``failed`` after the last attempt).
``dashboard_keys``
    secrets the dashboard makes for itself, such as the key of the readers'
    pseudonyms (an HMAC key: the pseudonyms stay stable and cannot be reversed
    without it).
``reader_values``
    the reader intelligence rollup: one row per reader with a conversation in the value
    window, their recency, frequency and breadth points and segment, replaced by each
    refresh (``crm_store.reader_snapshot``).
``reader_risks``
    the latest churn list, scored, with the factors of each score (one row per reader),
    replaced by each refresh.
``reader_snapshots``
    the reader intelligence figures that are not per reader (acquisition, cohorts,
    loyalty, churn summary, segment counts), one JSON document per name, replaced by
    each refresh, so a dashboard request reads one row instead of scanning
    conversations.
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

from crm_store.models.core import Base, UtcDateTime, utcnow

__all__ = [
    "DashboardKey",
    "ReaderRisk",
    "ReaderSnapshot",
    "ReaderValueRow",
    "ReportSubscription",
    "WeeklyReport",
]


class ReportSubscription(Base):
    """A staff member's subscription to the weekly report email."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("staff_user_id", name="uq_report_subscriptions_staff"),)

    id = Column(Integer, primary_key=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class WeeklyReport(Base):
    """One weekly report to one subscriber: claimed, then sent (or retried)."""

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("week_start", "staff_user_id", name="uq_weekly_report"),)

    id = Column(Integer, primary_key=True)
    week_start = Column(Date, nullable=False)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    to_address = Column(String(320), nullable=False)
    status = Column(String(20), nullable=False, default="sending")
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    claimed_at = Column(UtcDateTime, nullable=True)
    sent_at = Column(UtcDateTime, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class DashboardKey(Base):
    """A secret the dashboard generated for itself (hex), by name."""

    __tablename__ = "dashboard_keys"

    name = Column(String(60), primary_key=True)
    value = Column(String(128), nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class ReaderValueRow(Base):
    """One reader's value figures as of the latest refresh (no personal data)."""

    __tablename__ = "reader_values"
    __table_args__ = (Index("ix_reader_values_segment_rank", "segment", "rank"),)

    reader_id = Column(Integer, ForeignKey("readers.id", ondelete="CASCADE"), primary_key=True)
    # The reader's place in the list, best first (score, then frequency), so a page of a
    # segment is read from the index in order.
    rank = Column(Integer, nullable=False)
    segment = Column(String(20), nullable=False)
    score = Column(Integer, nullable=False)
    recency = Column(Integer, nullable=False)
    frequency = Column(Integer, nullable=False)
    breadth = Column(Integer, nullable=False)
    recency_days = Column(Integer, nullable=False)
    conversations = Column(Integer, nullable=False)
    loans = Column(Integer, nullable=False)
    services = Column(JSON, nullable=False)
    mean_rating = Column(Float, nullable=True)


class ReaderRisk(Base):
    """A reader on the latest churn list, scored, with the factors (latest refresh)."""

    __tablename__ = "reader_risks"

    reader_id = Column(Integer, ForeignKey("readers.id", ondelete="CASCADE"), primary_key=True)
    rank = Column(Integer, nullable=False, index=True)
    score = Column(Integer, nullable=False)
    last_active_at = Column(UtcDateTime, nullable=False)
    conversations = Column(Integer, nullable=False)
    factors = Column(JSON, nullable=False)


class ReaderSnapshot(Base):
    """One reader intelligence document (``acquisition``, ``cohorts``, …) of the latest refresh."""

    __tablename__ = "reader_snapshots"

    name = Column(String(40), primary_key=True)
    as_of = Column(UtcDateTime, nullable=False)
    payload = Column(JSON, nullable=False)
