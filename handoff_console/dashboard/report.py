"""The weekly report in the console: its figures, table, charts and the email subscription.

The printable page (``/dashboard/report``), its API and the worker's weekly email all
read :func:`crm_store.weekly_figures.weekly_figures` and draw with
:mod:`crm_store.report_charts`, so the page shows exactly what the email sends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import StaffUser
from crm_store.models.dashboard_reports import ReportSubscription
from crm_store.report_charts import CHART_ALT, CHARTS, render_chart
from crm_store.weekly_figures import WeeklyFigures, last_full_week, weekly_figures
from handoff_console.dashboard.exports import Cell, Table
from handoff_console.schemas.dashboard_readers import ReportReply, SubscriptionReply
from handoff_console.services.errors import BadRequest, NotFound

__all__ = [
    "CACHED_CHARTS",
    "CHART_ALT",
    "CHART_NAMES",
    "WEEK",
    "chart_png",
    "parse_week",
    "report_figures",
    "report_view",
    "set_subscription",
    "subscription",
]

CHART_NAMES = tuple(CHARTS)
"""The report's charts, in order."""
WEEK = timedelta(days=7)
CACHED_CHARTS = 32
"""How many drawn chart PNGs the console keeps."""
_CACHE: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def parse_week(value: str | None) -> date:
    """``?week=``: any day of the week (its Monday is used); last full week by default."""
    if not value:
        return last_full_week(clock.now())
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest("bad_date", "week must be a date like 2026-06-08.") from error
    return day - timedelta(days=day.weekday())


def report_figures(session: Session, week: date) -> WeeklyFigures:
    """The week's figures (the same as the weekly email's)."""
    return weekly_figures(session, week)


def report_view(session: Session, week: date) -> tuple[dict[str, Any], Table]:
    """The report's JSON and its key-figures table."""
    data = report_figures(session, week)
    figures = [
        {"key": f.key, "label": f.label, "value": f.value, "previous": f.previous, "unit": f.unit}
        for f in data.figures
    ]
    payload = ReportReply.view(
        week_start=data.week_start,
        week_end=data.week_end,
        figures=figures,
        segments=data.segments,
    )
    rows: list[list[Cell]] = [
        [f.label, f.shown(f.value), f.shown(f.previous), f.value, f.previous] for f in data.figures
    ]
    rows.append(
        ["Readers at risk (latest churn list)", str(data.at_risk), None, data.at_risk, None]
    )
    columns = ["Figure", "This week", "Week before", "Value", "Previous value"]
    name = f"weekly-report-{data.week_start.isoformat()}"
    return payload, Table(name, columns, rows)


def chart_png(session: Session, name: str, week: date) -> bytes:
    """One of the report's charts as PNG; a 404 for an unknown name.

    Drawing takes a few hundred milliseconds, so the last :data:`CACHED_CHARTS` PNGs
    are kept, keyed by the chart and the exact figures it shows: new figures (a new
    refresh, a recomputed day) make a new PNG.
    """
    if name not in CHARTS:
        raise NotFound("no_chart", f"No chart called {name!r}.")
    data = report_figures(session, week)
    key = (name, repr(data))
    with _CACHE_LOCK:
        png = _CACHE.get(key)
        if png is not None:
            _CACHE.move_to_end(key)
            return png
    png = render_chart(name, data)
    with _CACHE_LOCK:
        _CACHE[key] = png
        while len(_CACHE) > CACHED_CHARTS:
            _CACHE.popitem(last=False)
    return png


def subscription(session: Session, staff_id: int) -> dict[str, Any]:
    """Whether ``staff_id`` gets the weekly report email, and the address it goes to."""
    user = session.get(StaffUser, staff_id)
    row = session.execute(
        select(ReportSubscription).where(ReportSubscription.staff_user_id == staff_id)
    ).scalar_one_or_none()
    email = user.email if user is not None else None
    return SubscriptionReply.view(subscribed=bool(row and row.active), email=email or None)


def set_subscription(session: Session, staff_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Subscribe (``{"subscribed": true}``) or leave (false); audited.

    The audit action is ``report.subscribe`` or ``report.unsubscribe``.
    """
    wanted = body.get("subscribed")
    if not isinstance(wanted, bool):
        raise BadRequest("bad_subscribed", "subscribed must be true or false.")
    row = session.execute(
        select(ReportSubscription).where(ReportSubscription.staff_user_id == staff_id)
    ).scalar_one_or_none()
    if row is None:
        row = ReportSubscription(staff_user_id=staff_id, active=wanted, created_at=clock.now())
        session.add(row)
    row.active = wanted
    row.updated_at = clock.now()
    action = "report.subscribe" if wanted else "report.unsubscribe"
    audit(session, staff_id, action, f"staff:{staff_id}")
    session.flush()
    return subscription(session, staff_id)
