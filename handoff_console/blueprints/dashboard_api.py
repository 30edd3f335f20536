"""The dashboard's overview, charts and drill-down API (issue 17, part 1).

Managers and admins only (the librarian workload: managers only). Every endpoint
takes the filters of :data:`handoff_console.dashboard.filters.FILTER_QUERY` and answers
JSON, or its table as a file with ``?format=csv|xlsx``
(:mod:`handoff_console.dashboard.exports`):

- ``GET /api/dashboard/overview``: each figure, the previous period's, the change, a
  daily sparkline, and the filter options with data;
- ``GET /api/dashboard/charts/<chart>``: one chart as a table (:data:`CHARTS`);
- ``GET /api/dashboard/drill``: the conversations behind a figure, bar or cell.

Figures come from the rollups the worker keeps (``worker.jobs.rollups``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_store import clock
from handoff_console import api
from handoff_console.blueprints.dashboard import DASHBOARD_ROLES
from handoff_console.dashboard import exports
from handoff_console.dashboard.charts import CHARTS, MANAGER_ONLY, chart
from handoff_console.dashboard.drill import DRILL_QUERY, drill, parse_drill
from handoff_console.dashboard.filters import FILTER_QUERY, Filters, filter_options, parse_filters
from handoff_console.dashboard.overview import overview
from handoff_console.schemas.dashboard import ChartReply, DrillReply, OverviewReply
from library.profile import library_zone

__all__ = ["bp"]

bp = Blueprint("dashboard_api")

FORBIDDEN = "forbidden: managers and admins only"
BAD = "bad_date, bad_range, bad_preset, bad_filter or bad_format"
ERRORS = {400: BAD, 403: FORBIDDEN}


def _filters(request: Request) -> Filters:
    return parse_filters(request.args, clock.now().astimezone(library_zone()).date())


def _operation(
    summary: str, ok: Any, roles: tuple[str, ...] = DASHBOARD_ROLES, **more: Any
) -> api.Operation:
    return api.Operation(
        summary,
        ok=ok,
        roles=roles,
        tag="dashboard",
        query=(*FILTER_QUERY, *more.pop("query", ()), exports.FORMAT_QUERY),
        also=exports.FILE_MEDIA,
        errors=more.pop("errors", ERRORS),
        **more,
    )


def _percent(value: Any) -> Any:
    return round(value * 100, 2) if isinstance(value, float) else value


def overview_table(body: dict[str, Any]) -> exports.Table:
    """The overview's figures as a table (rates in percent)."""
    rows = []
    for figure in body["figures"]:
        rate = figure["unit"] == "rate"
        convert = _percent if rate else (lambda v: v)
        unit = "%" if rate else figure["unit"]
        rows.append(
            [
                figure["label"],
                unit,
                convert(figure["value"]),
                convert(figure["previous"]),
                convert(figure["change"]),
            ]
        )
    columns = ["Figure", "Unit", "This period", "Previous period", "Change"]
    return exports.Table("dashboard-overview", columns, rows)


OVERVIEW = _operation(
    "The overview: every figure for the period, the previous period, change and sparkline",
    OverviewReply,
)


@api.route(bp, "GET", "/api/dashboard/overview", OVERVIEW)
async def get_overview(request: Request) -> HTTPResponse:
    """Every overview figure (``?format=csv|xlsx``: the figures as a table)."""
    filters = _filters(request)
    exports.requested_format(request)
    body = await api.in_store(
        request, lambda s: overview(s, filters, library_zone(), filter_options)
    )
    return exports.respond(request, overview_table(body), OverviewReply.view(**body))


def _chart_handler(name: str) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
    async def get_chart(request: Request) -> HTTPResponse:
        filters = _filters(request)
        exports.requested_format(request)
        table = await api.in_store(request, lambda s: chart(s, name, filters))
        body = table.as_json(filters)
        file = exports.Table(f"dashboard-{name}", table.columns, table.rows)
        return exports.respond(request, file, ChartReply.view(**body))

    get_chart.__name__ = f"get_chart_{name.replace('-', '_')}"
    get_chart.__doc__ = f"The {name} chart as a table."
    return get_chart


for _name, _build in CHARTS.items():
    _roles = ("manager",) if _name in MANAGER_ONLY else DASHBOARD_ROLES
    _who = "managers only" if _name in MANAGER_ONLY else FORBIDDEN
    api.route(
        bp,
        "GET",
        f"/api/dashboard/charts/{_name}",
        _operation(
            (_build.__doc__ or _name).splitlines()[0].rstrip("."),
            ChartReply,
            _roles,
            errors={400: BAD, 403: f"forbidden: {_who}"},
        ),
    )(_chart_handler(_name))

DRILL = _operation(
    "The conversations behind a figure, bar or cell (newest 200)", DrillReply, query=DRILL_QUERY
)


def drill_table(body: dict[str, Any]) -> exports.Table:
    """The drill-down's conversations as a table."""
    columns = [
        "Conversation",
        "Session",
        "Channel",
        "Started",
        "Intent",
        "Branch",
        "Reader messages",
        "Handed off",
        "Handoff reason",
        "Rating",
        "Contained",
    ]
    rows = [
        [
            item["conversation_id"],
            item["session"],
            item["channel"],
            item["started_at"],
            item["intent"],
            item["branch"],
            item["reader_messages"],
            item["handoff"],
            item["handoff_reason"],
            item["rating"],
            item["contained"],
        ]
        for item in body["items"]
    ]
    return exports.Table("dashboard-drill", columns, rows)


@api.route(bp, "GET", "/api/dashboard/drill", DRILL)
async def get_drill(request: Request) -> HTTPResponse:
    """The conversations behind a drill-down, newest first."""
    filters = _filters(request)
    params = parse_drill(request.args, filters)
    exports.requested_format(request)
    body = await api.in_store(request, lambda s: drill(s, filters, params))
    return exports.respond(request, drill_table(body), DrillReply.view(**body))
