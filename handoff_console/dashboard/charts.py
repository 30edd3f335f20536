"""The dashboard's charts, each one table: columns, rows, and the drill-down of each row.

Every chart answers the same shape, so that the page draws it (Apache ECharts), shows
it as an accessible table and exports it as CSV or XLSX from the same rows. A row's
``drill`` names the sessions behind it (:mod:`handoff_console.dashboard.drill`).
Volumes come from ``dashboard_daily_rollups`` (the heatmap from the same rows' counts per
local hour, ``hour_00`` … ``hour_23``, summed per day in SQL and folded into weekdays in
Python: about 40 rows a day instead of 240 hourly rollup rows); handoff reasons and the
librarian workload from the sessions' facts, read through the covering index of
handed-off sessions (``ix_conversation_sessions_handoff_cover``); the clusters from the
latest nightly analysis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from crm_store.models import StaffUser
from crm_store.models.dashboard import HOUR_COLUMNS, ConversationSession, DashboardDailyRollup
from crm_store.models.operations import AnalysisRun, QuestionCluster
from handoff_console.dashboard.filters import Filters
from handoff_console.dashboard.overview import percentile, rollup_by_day

__all__ = ["CHARTS", "MANAGER_ONLY", "ChartTable", "chart"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP = 15
FAQ_PREFIX = "faq/"
SESSIONS = ConversationSession.__table__
MANAGER_ONLY = frozenset({"workload"})
"""Charts only managers may read (admins get 403)."""


@dataclass
class ChartTable:
    """One chart's figures as a table."""

    chart: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    drill: list[dict[str, Any] | None] = field(default_factory=list)
    note: str | None = None

    def add(self, row: list[Any], drill: dict[str, Any] | None = None) -> None:
        """Append a row and what a click on it opens."""
        self.rows.append(row)
        self.drill.append(drill)

    def as_json(self, filters: Filters) -> dict[str, Any]:
        """The API's reply."""
        return {
            "chart": self.chart,
            "title": self.title,
            "filters": filters.as_json(),
            "columns": self.columns,
            "rows": self.rows,
            "drill": self.drill,
            "note": self.note,
        }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _grouped(session: Session, filters: Filters, *keys: str) -> list[Any]:
    """Conversations, contained and handoffs summed per ``keys`` (daily rollup columns)."""
    model: Any = DashboardDailyRollup
    table = model.__table__.c  # Core columns: no ORM row loading
    columns = [table[key] for key in keys]
    return list(
        session.execute(
            select(
                *columns,
                func.sum(table.conversations),
                func.sum(table.contained),
                func.sum(table.handoffs),
            )
            .where(*filters.rollup_conditions(model))
            .group_by(*columns)
        ).all()
    )


def heatmap(session: Session, filters: Filters) -> ChartTable:
    """Conversations by weekday and local hour."""
    table = ChartTable(
        "heatmap", "Conversations by weekday and hour", ["Weekday", "Hour", "Conversations"]
    )
    cells = [[0] * 24 for _ in range(7)]
    c = DashboardDailyRollup.__table__.c
    # One row per day: its 24 hour counts summed over the filtered keys. The day comes
    # back as the driver gives it (SQLite: text) and is parsed once per day.
    for day, *hours in session.execute(
        select(type_coerce(c.day, String), *(func.sum(c[name]) for name in HOUR_COLUMNS))
        .where(*filters.rollup_conditions())
        .group_by(c.day)
    ):
        parsed = day if isinstance(day, date) else date.fromisoformat(str(day))
        row = cells[parsed.weekday()]
        for hour, count in enumerate(hours):
            row[hour] += int(count or 0)
    for weekday in range(7):
        for hour in range(24):
            count = cells[weekday][hour]
            table.add([WEEKDAYS[weekday], hour, count], {"weekday": weekday, "hour": hour})
    return table


def volume(session: Session, filters: Filters) -> ChartTable:
    """Conversations, handoffs and contained conversations per day."""
    table = ChartTable(
        "volume", "Conversations per day", ["Day", "Conversations", "Handed off", "Contained"]
    )
    by_day = rollup_by_day(session, filters)
    for day in filters.day_list():
        values = by_day.get(day, {})
        table.add(
            [
                day.isoformat(),
                int(values.get("conversations", 0)),
                int(values.get("handoffs", 0)),
                int(values.get("contained", 0)),
            ],
            {"day": day.isoformat()},
        )
    return table


def channels(session: Session, filters: Filters) -> ChartTable:
    """The channel mix: conversations per channel and their share."""
    table = ChartTable("channels", "Channel mix", ["Channel", "Conversations", "Share"])
    rows = _grouped(session, filters, "channel")
    total = sum(int(row[1]) for row in rows)
    for channel, conversations, _, _ in sorted(rows, key=lambda r: (-int(r[1]), r[0])):
        share = _ratio(int(conversations), total)
        table.add([channel, int(conversations), share], {"channel": channel})
    return table


def _intent_rows(session: Session, filters: Filters) -> list[tuple[str, int, int]]:
    return [
        (intent, int(count), int(contained))
        for intent, count, contained, _ in _grouped(session, filters, "intent")
    ]


def intents(session: Session, filters: Filters) -> ChartTable:
    """The top topic intents (every FAQ topic counted as ``faq``) and their containment."""
    table = ChartTable("intents", "Top intents", ["Intent", "Conversations", "Containment"])
    merged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for intent, count, contained in _intent_rows(session, filters):
        name = "faq" if intent.startswith(FAQ_PREFIX) else intent
        merged[name][0] += count
        merged[name][1] += contained
    ranked = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))[:TOP]
    for name, (count, contained) in ranked:
        table.add([name, count, _ratio(contained, count)], {"intent": name})
    return table


def faq_topics(session: Session, filters: Filters) -> ChartTable:
    """The FAQ topics readers asked about (``faq/<topic>``) and their containment."""
    table = ChartTable("faq", "FAQ topics", ["Topic", "Conversations", "Containment"])
    rows = [r for r in _intent_rows(session, filters) if r[0].startswith(FAQ_PREFIX)]
    for intent, count, contained in sorted(rows, key=lambda r: (-r[1], r[0]))[:TOP]:
        table.add(
            [intent.removeprefix(FAQ_PREFIX), count, _ratio(contained, count)], {"intent": intent}
        )
    return table


def trends(session: Session, filters: Filters) -> ChartTable:
    """Containment and CSAT per day."""
    table = ChartTable(
        "trends",
        "Containment and CSAT per day",
        ["Day", "Containment", "CSAT", "Conversations", "Ratings"],
    )
    by_day = rollup_by_day(session, filters)
    for day in filters.day_list():
        v = by_day.get(day, {})
        conversations, ratings = v.get("conversations", 0), v.get("ratings", 0)
        table.add(
            [
                day.isoformat(),
                _ratio(v.get("contained", 0), conversations),
                _ratio(v.get("positive_ratings", 0), ratings),
                int(conversations),
                int(ratings),
            ],
            {"day": day.isoformat()},
        )
    return table


def handoff_reasons(session: Session, filters: Filters) -> ChartTable:
    """Why conversations went to a librarian, most frequent first."""
    table = ChartTable("handoff-reasons", "Handoff reasons", ["Reason", "Handoffs"])
    c = SESSIONS.c
    rows = session.execute(
        select(c.handoff_reason, func.count(c.id))
        .where(*filters.session_conditions(), c.handoff.is_(True))
        .group_by(c.handoff_reason)
    ).all()
    for reason, count in sorted(rows, key=lambda r: (-int(r[1]), r[0] or "")):
        table.add([reason or "unknown", int(count)], {"reason": reason or "unknown"})
    return table


def workload(session: Session, filters: Filters) -> ChartTable:
    """Per librarian: handed-off conversations, first response (median) and CSAT."""
    table = ChartTable(
        "workload",
        "Librarian workload",
        ["Librarian", "Conversations", "First response median (s)", "CSAT", "Ratings"],
    )
    per: dict[int, list[Any]] = defaultdict(lambda: [0, [], 0, 0])
    c = SESSIONS.c
    for librarian_id, first, rating in session.execute(
        select(c.librarian_id, c.first_response_seconds, c.rating).where(
            *filters.session_conditions(), c.handoff.is_(True), c.librarian_id.is_not(None)
        )
    ):
        entry = per[int(librarian_id)]
        entry[0] += 1
        if first is not None:
            entry[1].append(float(first))
        if rating is not None:
            entry[2] += 1
            entry[3] += int(rating >= 4)
    names = dict(
        session.execute(
            select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(list(per) or [0]))
        ).all()
    )
    for librarian_id, (count, firsts, ratings, positive) in sorted(
        per.items(), key=lambda item: (-item[1][0], names.get(item[0], ""))
    ):
        table.add(
            [
                names.get(librarian_id, f"#{librarian_id}"),
                count,
                percentile(firsts, 0.5),
                _ratio(positive, ratings),
                ratings,
            ],
            {"librarian": librarian_id},
        )
    return table


def clusters(session: Session, filters: Filters) -> ChartTable:
    """The latest nightly run's clusters of unanswered questions, with sample messages."""
    table = ChartTable(
        "clusters",
        "Unanswered questions, clustered",
        ["Rank", "Cluster", "Questions", "Examples", "Channels"],
    )
    day = session.execute(select(func.max(AnalysisRun.day))).scalar_one_or_none()
    if day is None:
        table.note = "No nightly analysis has run yet."
        return table
    table.note = f"From the nightly analysis of {day.isoformat()}; the period filters do not apply."
    for cluster in session.execute(
        select(QuestionCluster).where(QuestionCluster.run_day == day).order_by(QuestionCluster.rank)
    ).scalars():
        examples = [str(e) for e in (cluster.examples or [])]
        table.add(
            [
                cluster.rank,
                cluster.label,
                cluster.size,
                " | ".join(examples),
                ", ".join(str(c) for c in (cluster.channels or [])),
            ],
            {"inbox": f"/studio/inbox?cluster={cluster.rank}"},
        )
    return table


CHARTS: dict[str, Callable[[Session, Filters], ChartTable]] = {
    "heatmap": heatmap,
    "volume": volume,
    "channels": channels,
    "intents": intents,
    "faq": faq_topics,
    "trends": trends,
    "handoff-reasons": handoff_reasons,
    "workload": workload,
    "clusters": clusters,
}
"""Every chart by its name in ``/api/dashboard/charts/<name>``."""


def chart(session: Session, name: str, filters: Filters) -> ChartTable:
    """One chart's table (the caller checks that ``name`` is in :data:`CHARTS`)."""
    return CHARTS[name](session, filters)
