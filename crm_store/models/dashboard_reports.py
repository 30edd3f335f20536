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
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Text, UniqueConstraint

from crm_store.models.core import Base, UtcDateTime, utcnow

__all__ = ["DashboardKey", "ReportSubscription", "WeeklyReport"]


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
