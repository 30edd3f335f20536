"""The weekly report's figures: one week against the week before (issue 17).

Shared by the worker's weekly email (``worker.jobs.weekly_report``) and the console's
printable report page, so both show the same numbers. A week runs Monday to Sunday
(UTC days, as the nightly analysis stores them); :func:`last_full_week` is the week
before the one ``now`` is in.

The conversation figures are sums of the nightly analysis's ``daily_metrics`` rows of
channel ``all`` (docs/analytics.md defines each); the reader figures come from the
reader intelligence rollup (:mod:`crm_store.reader_snapshot`). Nothing here names a
reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models.operations import ALL_CHANNELS, DailyMetric
from crm_store.reader_dynamics import new_readers_between
from crm_store.reader_snapshot import current, new_readers_in, slice_acquisition

__all__ = ["Figure", "WeeklyFigures", "last_full_week", "weekly_figures"]

_SUMMED = (
    "conversations", "contained_conversations", "handoff_conversations", "ratings",
    "positive_ratings", "reader_messages", "fallback_messages", "responded_handoffs",
    "first_response_seconds_sum",
)  # fmt: skip


@dataclass(frozen=True)
class Figure:
    """One key figure: this week's value and last week's (None when undefined)."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str

    @property
    def change(self) -> float | None:
        """``value - previous``, when both are known."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 4)

    def shown(self, value: float | None) -> str:
        """A value as the report prints it: ``42``, ``61.5 %``, ``3.2 min`` or a dash."""
        if value is None:
            return "-"
        if self.unit == "%":
            return f"{value * 100:.1f} %"
        if self.unit == "min":
            return f"{value:.1f} min"
        return f"{value:g}"


@dataclass
class WeeklyFigures:
    """Everything the weekly report shows."""

    week_start: date
    figures: list[Figure]
    daily: list[tuple[date, int, float | None]]
    segments: dict[str, int]
    new_by_month: list[tuple[str, int]]
    at_risk: int

    @property
    def week_end(self) -> date:
        """The week's Sunday."""
        return self.week_start + timedelta(days=6)


def last_full_week(now: datetime) -> date:
    """The Monday of the week before ``now``'s week."""
    today = now.astimezone(timezone.utc).date()
    return today - timedelta(days=today.weekday() + 7)


def _sums(session: Session, first: date, last: date) -> dict[str, float]:
    row = session.execute(
        select(*(func.coalesce(func.sum(getattr(DailyMetric, c)), 0) for c in _SUMMED)).where(
            DailyMetric.channel == ALL_CHANNELS, DailyMetric.day >= first, DailyMetric.day <= last
        )
    ).one()
    return dict(zip(_SUMMED, (float(v) for v in row), strict=True))


def _ratio(top: float, bottom: float) -> float | None:
    return round(top / bottom, 4) if bottom else None


def _conversation_figures(now: dict[str, float], before: dict[str, float]) -> list[Figure]:
    def pair(top: str, bottom: str) -> tuple[float | None, float | None]:
        return _ratio(now[top], now[bottom]), _ratio(before[top], before[bottom])

    def minutes(sums: dict[str, float]) -> float | None:
        mean = _ratio(sums["first_response_seconds_sum"], sums["responded_handoffs"])
        return None if mean is None else round(mean / 60, 2)

    rates = (
        ("containment_rate", "Containment", "contained_conversations", "conversations"),
        ("handoff_rate", "Handoff rate", "handoff_conversations", "conversations"),
        ("csat", "CSAT (ratings 4-5)", "positive_ratings", "ratings"),
        ("fallback_rate", "Fallback rate", "fallback_messages", "reader_messages"),
    )
    figures = [
        Figure("conversations", "Conversations", now["conversations"], before["conversations"], "")
    ]
    figures += [Figure(key, label, *pair(top, bottom), "%") for key, label, top, bottom in rates]
    figures.append(
        Figure("first_response", "First response (mean)", minutes(now), minutes(before), "min")
    )
    return figures


def weekly_figures(
    session: Session, week_start: date, now: datetime | None = None
) -> WeeklyFigures:
    """The figures of the week starting ``week_start`` (a Monday), against the week before.

    The reader figures (segments, new readers by month, readers at risk) are those of
    the latest reader intelligence refresh (:mod:`crm_store.reader_snapshot`; made as of
    ``now`` when there is none yet).
    """
    now = now or clock.now()
    week_end = week_start + timedelta(days=6)
    this = _sums(session, week_start, week_end)
    before = _sums(session, week_start - timedelta(days=7), week_start - timedelta(days=1))
    figures = _conversation_figures(this, before)
    acquired = current(session, "acquisition", now)
    start = datetime.combine(week_start, time.min, tzinfo=timezone.utc)
    counts = []
    for first in (week_start, week_start - timedelta(days=7)):
        stored = new_readers_in(acquired, first, first + timedelta(days=6))
        if stored is None:  # older than the rollup keeps: count from the conversations
            begin = start - (week_start - first)
            stored = new_readers_between(session, begin, begin + timedelta(days=7))
        counts.append(stored)
    figures.append(Figure("new_readers", "New readers", counts[0], counts[1], ""))
    daily_rows = {
        m.day: m
        for m in session.execute(
            select(DailyMetric).where(
                DailyMetric.channel == ALL_CHANNELS,
                DailyMetric.day >= week_start,
                DailyMetric.day <= week_end,
            )
        ).scalars()
    }
    daily = []
    for offset in range(7):
        day = week_start + timedelta(days=offset)
        metric = daily_rows.get(day)
        count = int(metric.conversations) if metric else 0
        contained = _ratio(metric.contained_conversations, count) if metric else None
        daily.append((day, count, contained))
    months = slice_acquisition(acquired, 6)
    new_by_month = [(m, sum(months["new_readers"][m].values())) for m in months["months"]]
    segments = current(session, "segments", now)["counts"]
    at_risk = int(current(session, "churn", now)["total"])
    return WeeklyFigures(week_start, figures, daily, segments, new_by_month, at_risk)
