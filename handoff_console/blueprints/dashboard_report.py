"""The dashboard's Report tab (issue 17): the printable weekly report and its subscription.

- ``/dashboard/report?week=`` is a page rendered on the server (figures table and the
  charts as PNG images), with print CSS, so that the browser's Print gives a clean
  report; ``/dashboard/report/charts/<name>.png?week=`` draws one chart (matplotlib,
  the same PNG the weekly email carries).
- ``GET /api/dashboard/report?week=&format=csv|xlsx``: the key figures.
- ``GET``/``PUT /api/dashboard/report-subscriptions/me``: whether the caller gets the
  weekly report by email (managers and admins; audited).
"""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.auth import require_staff
from handoff_console.blueprints.dashboard import DASHBOARD_ROLES, dashboard_page
from handoff_console.dashboard import exports
from handoff_console.dashboard import report as views
from handoff_console.schemas.dashboard_readers import (
    ReportReply,
    SubscriptionBody,
    SubscriptionReply,
)

__all__ = ["bp"]

bp = Blueprint("dashboard_report")

FORBIDDEN = "forbidden: managers and admins only"
WEEK = api.Query("week", {"type": "string", "format": "date"}, "a day of the week; last week")

REPORT = api.Operation(
    "The weekly report's key figures against the week before",
    ok=ReportReply,
    roles=DASHBOARD_ROLES,
    tag="dashboard",
    also=exports.FILE_MEDIA,
    query=(WEEK, exports.FORMAT_QUERY),
    errors={400: "bad_date, bad_format", 403: FORBIDDEN},
)
GET_SUBSCRIPTION = api.Operation(
    "Whether I get the weekly report by email",
    ok=SubscriptionReply,
    roles=DASHBOARD_ROLES,
    tag="dashboard",
    errors={403: FORBIDDEN},
)
PUT_SUBSCRIPTION = api.Operation(
    "Subscribe to or leave the weekly report email (audited)",
    ok=SubscriptionReply,
    body=SubscriptionBody,
    roles=DASHBOARD_ROLES,
    tag="dashboard",
    errors={400: "bad_subscribed", 403: FORBIDDEN},
)


@bp.get("/dashboard/report", name="dashboard_report")
@require_staff(*DASHBOARD_ROLES)
async def page(request: Request) -> HTTPResponse:
    """The printable weekly report, with the email subscription toggle."""
    week = views.parse_week(request.args.get("week"))
    me = api.staff(request).id
    figures, subscribed = await api.in_store(
        request, lambda s: (views.report_figures(s, week), views.subscription(s, me))
    )
    return dashboard_page(
        request,
        "dashboard_report.html",
        "report",
        ("dashboard_report.js",),
        report=figures,
        subscription=subscribed,
        charts=views.CHART_NAMES,
        chart_alt=views.CHART_ALT,
        previous_week=(week - views.WEEK).isoformat(),
        next_week=(week + views.WEEK).isoformat(),
    )


@bp.get("/dashboard/report/charts/<file_name>", name="dashboard_report_chart")
@require_staff(*DASHBOARD_ROLES)
async def chart(request: Request, file_name: str) -> HTTPResponse:
    """One chart of the report as a PNG image (``daily.png``, ``segments.png``, …)."""
    week = views.parse_week(request.args.get("week"))
    name = file_name.removesuffix(".png") if file_name.endswith(".png") else ""
    png = await api.in_store(request, lambda s: views.chart_png(s, name, week))
    return response.raw(png, content_type="image/png", headers={"Cache-Control": "no-store"})


@api.route(bp, "GET", "/api/dashboard/report", REPORT)
async def report(request: Request) -> HTTPResponse:
    """The key figures of a week (last week by default); ``?format=csv|xlsx`` for a file."""
    exports.requested_format(request)
    week = views.parse_week(request.args.get("week"))
    payload, table = await api.in_store(request, lambda s: views.report_view(s, week))
    return exports.respond(request, table, payload)


@api.route(bp, "GET", "/api/dashboard/report-subscriptions/me", GET_SUBSCRIPTION)
async def my_subscription(request: Request) -> HTTPResponse:
    """Whether the caller gets the weekly report email."""
    return await api.as_staff(request, views.subscription)


@api.route(bp, "PUT", "/api/dashboard/report-subscriptions/me", PUT_SUBSCRIPTION)
async def set_my_subscription(request: Request) -> HTTPResponse:
    """Subscribe to (``{"subscribed": true}``) or leave the weekly report email."""
    return await api.as_caller(request, views.set_subscription)
