"""The overview's figures for a period, the previous period and a daily sparkline each.

Counts and rates come from ``dashboard_daily_rollups`` (summed over the period's rows);
the medians and the 90th percentile from the same rows' lists of the handed-off
sessions' seconds (``first_response_values``, ``resolution_values``: one short JSON list
per row instead of one session row per handoff); open tickets from ``tickets``. Nothing
reads messages. docs/analytics.md ("Dashboard figures") defines every figure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from crm_store.models import Conversation, Ticket, TicketStatus
from crm_store.models.dashboard import ROLLUP_MEASURES, DashboardDailyRollup
from handoff_console.dashboard.filters import Filters

__all__ = ["FIGURES", "Figure", "overview", "percentile", "rollup_by_day"]

Totals = dict[str, float]


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


def rollup_by_day(session: Session, filters: Filters) -> dict[date, Totals]:
    """The rollup measures summed per day of the period."""
    table = DashboardDailyRollup
    columns = [func.coalesce(func.sum(table.__table__.c[m]), 0) for m in ROLLUP_MEASURES]
    rows = session.execute(
        select(table.__table__.c.day, *columns)
        .where(*filters.rollup_conditions())
        .group_by(table.__table__.c.day)
    ).all()
    return {row[0]: dict(zip(ROLLUP_MEASURES, map(float, row[1:]), strict=True)) for row in rows}


def _sum(by_day: dict[date, Totals]) -> Totals:
    totals: Totals = dict.fromkeys(ROLLUP_MEASURES, 0.0)
    for values in by_day.values():
        for name, value in values.items():
            totals[name] += value
    return totals


def _as_date(value: date | str) -> date:
    """A day as the driver returns it (SQLite: ISO text) as a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _numbers(parts: list[str]) -> list[float]:
    """The numbers of several JSON lists' insides (``1.0,2.5``), parsed in one call."""
    return json.loads("[" + ",".join(parts) + "]") if parts else []  # type: ignore[no-any-return]


def _durations(session: Session, filters: Filters) -> dict[date, tuple[list[float], list[float]]]:
    """First-response and resolution seconds of the period's handed-off sessions, per day.

    Read from the daily rollup rows with handoffs (their JSON lists), not the sessions;
    each day's lists are joined as text and parsed once per day, not once per row.
    """
    parts: dict[date | str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    c = DashboardDailyRollup.__table__.c
    rows = session.execute(
        select(type_coerce(c.day, String), c.first_response_values, c.resolution_values).where(
            *filters.rollup_conditions(), c.handoffs > 0
        )
    ).all()
    for day, first, resolution in rows:
        lists = parts[day]
        if first:
            lists[0].append(first[1:-1])
        if resolution:
            lists[1].append(resolution[1:-1])
    return {
        _as_date(day): (_numbers(first), _numbers(resolution))
        for day, (first, resolution) in parts.items()
    }


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


def _values(
    totals: Totals, durations: tuple[list[float], list[float]], tickets: int
) -> dict[str, float | None]:
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
    by_day = rollup_by_day(session, filters)
    durations = _durations(session, filters)
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
