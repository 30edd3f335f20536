"""The overview's figures for a period, the previous period and a daily sparkline each.

Counts and rates come from ``dashboard_daily_rollups`` (summed over the period's rows);
the medians and the 90th percentile from the same rows' handed-off sessions' seconds
(``first_response_values``, ``resolution_values``, comma-joined per day in the same
query, instead of one session row per handoff); open tickets from ``tickets``. Nothing
reads messages. docs/analytics.md ("Dashboard figures") defines every figure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import Conversation, Ticket, TicketStatus
from crm_store.models.dashboard import ROLLUP_MEASURES, DashboardDailyRollup
from handoff_console.dashboard.filters import Filters

__all__ = ["FIGURES", "Figure", "overview", "percentile", "rollup_by_day"]

Totals = dict[str, float]
Durations = tuple[list[float], list[float]]
"""First-response and resolution seconds of handed-off sessions."""


@dataclass(frozen=True)
class Figure:
    """One figure of the overview.

    Attributes:
        key: Its name in the API.
        label: Its heading on the page.
        unit: ``count``, ``rate`` (0 to 1) or ``seconds``.
        better: ``up`` or ``down`` when a rise is good or bad news; ``none`` otherwise.
    """

    key: str
    label: str
    unit: str
    better: str


FIGURES = (
    Figure("conversations", "Conversations", "count", "none"),
    Figure("containment", "Containment rate", "rate", "up"),
    Figure("handoff_rate", "Handoff rate", "rate", "down"),
    Figure("first_response_median", "First response, median (staffed)", "seconds", "down"),
    Figure("first_response_p90", "First response, 90th percentile (staffed)", "seconds", "down"),
    Figure("resolution_median", "Resolution time, median", "seconds", "down"),
    Figure("csat", "CSAT", "rate", "up"),
    Figure("fallback_rate", "Fallback rate", "rate", "down"),
    Figure("open_tickets", "Open tickets", "count", "down"),
)
"""The overview's figures, in the order of the page."""

RATES = {
    "containment": ("contained", "conversations"),
    "handoff_rate": ("handoffs", "conversations"),
    "csat": ("positive_ratings", "ratings"),
    "fallback_rate": ("fallback_messages", "reader_messages"),
}
"""Each rate's numerator and denominator (rollup measures)."""


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile of ``values`` (linear between closest ranks); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)


def _rate(totals: Totals, key: str) -> float | None:
    numerator, denominator = RATES[key]
    below = totals.get(denominator) or 0
    return round(totals.get(numerator, 0) / below, 4) if below else None


def _sums(columns: Any) -> list[Any]:
    """``coalesce(sum(m), 0)`` of every rollup measure, in :data:`ROLLUP_MEASURES` order."""
    return [func.coalesce(func.sum(columns[m]), 0) for m in ROLLUP_MEASURES]


def rollup_by_day(session: Session, filters: Filters) -> dict[date, Totals]:
    """The rollup measures summed per day of the period."""
    c = DashboardDailyRollup.__table__.c
    rows = session.execute(
        select(c.day, *_sums(c)).where(*filters.rollup_conditions()).group_by(c.day)
    ).all()
    return {row[0]: dict(zip(ROLLUP_MEASURES, map(float, row[1:]), strict=True)) for row in rows}


def _sum(by_day: dict[date, Totals]) -> Totals:
    totals: Totals = dict.fromkeys(ROLLUP_MEASURES, 0.0)
    for values in by_day.values():
        for name, value in values.items():
            totals[name] += value
    return totals


def _joined(session: Session, column: Any) -> Any:
    """A group's non-null texts of ``column``, comma-joined (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.string_agg(column, ",")
    return func.group_concat(column, ",")


def _numbers(text: str | None) -> list[float]:
    """Comma-separated numbers (``600.0,1800.0``) as floats, parsed in one call."""
    return json.loads(f"[{text}]") if text else []  # type: ignore[no-any-return]


def _by_day(session: Session, filters: Filters) -> tuple[dict[date, Totals], dict[date, Durations]]:
    """The measures per day and the day's handed-off seconds, in one grouped read.

    The seconds come from the daily rollup rows' lists, joined per day in SQL, so that a
    365-day period parses about 365 texts instead of reading a row per handoff.
    """
    c = DashboardDailyRollup.__table__.c
    first, resolution = c.first_response_values, c.resolution_values
    rows = session.execute(
        select(c.day, *_sums(c), _joined(session, first), _joined(session, resolution))
        .where(*filters.rollup_conditions())
        .group_by(c.day)
    ).all()
    width = len(ROLLUP_MEASURES)
    totals: dict[date, Totals] = {}
    durations: dict[date, Durations] = {}
    for day, *values in rows:
        totals[day] = dict(zip(ROLLUP_MEASURES, map(float, values[:width]), strict=True))
        durations[day] = (_numbers(values[width]), _numbers(values[width + 1]))
    return totals, durations


def _open_tickets(session: Session, filters: Filters, zone: tzinfo) -> dict[date, int]:
    """Tickets opened on each day of the period that are not closed (channel filter only)."""
    start = datetime.combine(filters.first, time.min, tzinfo=zone)
    end = datetime.combine(filters.last + timedelta(days=1), time.min, tzinfo=zone)
    query = select(Ticket.created_at).where(
        Ticket.created_at >= start, Ticket.created_at < end, Ticket.status != TicketStatus.CLOSED
    )
    if filters.channel:
        query = query.join(Conversation, Conversation.id == Ticket.conversation_id).where(
            Conversation.channel == filters.channel
        )
    days: dict[date, int] = defaultdict(int)
    for (created_at,) in session.execute(query):
        days[created_at.astimezone(zone).date()] += 1
    return days


def _values(totals: Totals, durations: Durations, tickets: int) -> dict[str, float | None]:
    first, resolution = durations
    return {
        "conversations": totals.get("conversations", 0),
        **{key: _rate(totals, key) for key in RATES},
        "first_response_median": percentile(first, 0.5),
        "first_response_p90": percentile(first, 0.9),
        "resolution_median": percentile(resolution, 0.5),
        "open_tickets": tickets,
    }


def _period(
    session: Session, filters: Filters, zone: tzinfo
) -> tuple[dict[str, float | None], dict[date, dict[str, float | None]]]:
    by_day, durations = _by_day(session, filters)
    tickets = _open_tickets(session, filters, zone)
    daily = {
        day: _values(by_day.get(day, {}), durations.get(day, ([], [])), tickets.get(day, 0))
        for day in filters.day_list()
    }
    everything = (
        [v for pair in durations.values() for v in pair[0]],
        [v for pair in durations.values() for v in pair[1]],
    )
    return _values(_sum(by_day), everything, sum(tickets.values())), daily


def _change(value: float | None, before: float | None) -> tuple[float | None, float | None]:
    if value is None or before is None:
        return None, None
    ratio = round((value - before) / before, 4) if before else None
    return round(value - before, 4), ratio


def overview(
    session: Session,
    filters: Filters,
    zone: tzinfo,
    options: Callable[[Session, Filters], dict[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """Every figure of the period with the previous period's, its change and sparkline."""
    now, daily = _period(session, filters, zone)
    before, _ = _period(session, filters.previous(), zone)
    figures = []
    for figure in FIGURES:
        change, ratio = _change(now[figure.key], before[figure.key])
        figures.append(
            {
                "key": figure.key,
                "label": figure.label,
                "unit": figure.unit,
                "better": figure.better,
                "value": now[figure.key],
                "previous": before[figure.key],
                "change": change,
                "change_ratio": ratio,
                "spark": [daily[day][figure.key] for day in filters.day_list()],
            }
        )
    earlier = filters.previous()
    return {
        "filters": filters.as_json(),
        "previous_period": {"from": earlier.first.isoformat(), "to": earlier.last.isoformat()},
        "days": [day.isoformat() for day in filters.day_list()],
        "figures": figures,
        "options": options(session, filters) if options else {},
    }
