"""Analytics for managers and admins: daily figures, summary, clusters, churn, loyalty.

Every endpoint reads what the nightly analysis stored. Readers appear by id only;
``GET /api/analytics/churn?include_personal=true`` adds names and emails, and that
export is audited. docs/analytics.md defines every figure.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, staff
from handoff_console.services import analytics_views as views
from handoff_console.services.errors import BadRequest

bp = Blueprint("api_analytics")

ROLES = ("manager", "admin")
TRUE = {"1", "true", "yes"}


def _flag(request: Request, name: str) -> bool:
    value = (request.args.get(name) or "").lower()
    if value and value not in TRUE | {"0", "false", "no"}:
        raise BadRequest("bad_flag", f"{name} must be true or false.")
    return value in TRUE


def _range(request: Request) -> tuple[Any, Any]:
    return views.date_range(request.args.get("from"), request.args.get("to"))


@bp.get("/api/analytics/daily")
@require_staff(*ROLES)
async def daily(request: Request) -> HTTPResponse:
    """Daily rows of one channel (``all`` by default); ``?format=csv`` for a file."""
    first, last = _range(request)
    channel = request.args.get("channel")
    output = request.args.get("format", "json")
    if output not in {"json", "csv"}:
        raise BadRequest("bad_format", "format must be json or csv.")
    items = await in_store(request, lambda s: views.daily(s, first, last, channel))
    if output == "csv":
        name = f"daily-{channel or 'all'}-{first.isoformat()}-{last.isoformat()}.csv"
        return response.text(
            views.daily_csv(items),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    channels = await in_store(request, lambda s: views.channels(s, first, last))
    return response.json(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "channel": channel or "all",
            "channels": channels,
            "items": items,
        }
    )


@bp.get("/api/analytics/summary")
@require_staff(*ROLES)
async def summary(request: Request) -> HTTPResponse:
    """Totals and rates over a range, plus the latest run's churn, loyalty and clusters."""
    first, last = _range(request)
    channel = request.args.get("channel")
    return response.json(await in_store(request, lambda s: views.summary(s, first, last, channel)))


@bp.get("/api/analytics/clusters")
@require_staff(*ROLES)
async def clusters(request: Request) -> HTTPResponse:
    """Clusters of questions the bot could not answer (latest run, or ``?day=``)."""
    day = views.parse_day(request.args.get("day"), "day")
    return response.json(await in_store(request, lambda s: views.clusters(s, day)))


@bp.get("/api/analytics/churn")
@require_staff(*ROLES)
async def churn(request: Request) -> HTTPResponse:
    """The churn list by reader id; ``?include_personal=true`` adds names and emails."""
    day = views.parse_day(request.args.get("day"), "day")
    personal = _flag(request, "include_personal")
    me = staff(request).id
    return response.json(await in_store(request, lambda s: views.churn(s, day, personal, me)))


@bp.get("/api/analytics/loyalty")
@require_staff(*ROLES)
async def loyalty(request: Request) -> HTTPResponse:
    """Repeat-reader loyalty: the latest run and the runs in the range."""
    first, last = views.date_range(request.args.get("from"), request.args.get("to"), True)
    return response.json(await in_store(request, lambda s: views.loyalty(s, first, last)))


@bp.get("/api/analytics/sentiment")
@require_staff(*ROLES)
async def sentiment(request: Request) -> HTTPResponse:
    """Sentiment of feedback comments per day (scores and counts only)."""
    first, last = _range(request)
    channel = request.args.get("channel")
    return response.json(
        await in_store(request, lambda s: views.sentiment(s, first, last, channel))
    )


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI entries of these endpoints (merged into ``GET /api/openapi.json``)."""
    from handoff_console.openapi import _error, _json, _op, _query

    day = {"type": "string", "format": "date"}
    number = {"type": "number", "nullable": True}
    range_params = [
        _query("from", day, "first day (inclusive); default 30 days before `to`"),
        _query("to", day, "last day (inclusive); default yesterday (UTC)"),
        _query("channel", {"type": "string"}, "a channel name, or `all` (default)"),
    ]
    forbidden = _error("forbidden: managers and admins only")
    bad = _error("bad_date, bad_range, bad_format or bad_flag")
    rates = {name: number for name in views.RATES}
    counts = {name: {"type": "number"} for name in views.COUNT_COLUMNS}
    daily_row = {
        "type": "object",
        "properties": {
            "day": day,
            "channel": {"type": "string"},
            "complete": {"type": "boolean", "description": "the 7-day return window has closed"},
            **counts,
            "first_response_median_seconds": number,
            "resolution_median_seconds": number,
            **rates,
        },
    }
    tag = "analytics"
    return {
        "/api/analytics/daily": {
            "get": _op(
                "Daily figures of one channel; `format=csv` returns a CSV file",
                {
                    "200": {
                        "description": "The rows",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": daily_row},
                                        "channels": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                    },
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": bad,
                    "403": forbidden,
                },
                parameters=[
                    *range_params,
                    _query("format", {"type": "string", "enum": ["json", "csv"]}),
                ],
                tag=tag,
            )
        },
        "/api/analytics/summary": {
            "get": _op(
                "Totals and rates over a range, with the latest run's churn, loyalty, clusters",
                {
                    "200": _json({"type": "object", "properties": {**counts, **rates}}),
                    "400": bad,
                    "403": forbidden,
                },
                parameters=range_params,
                tag=tag,
            )
        },
        "/api/analytics/clusters": {
            "get": _op(
                "Clusters of questions the bot could not answer: label, size, examples",
                {
                    "200": _json({"type": "object"}),
                    "403": forbidden,
                    "404": _error("no_analysis"),
                },
                parameters=[_query("day", day, "the run's day; default the latest run")],
                tag=tag,
            )
        },
        "/api/analytics/churn": {
            "get": _op(
                "Churn list by reader id; include_personal=true adds names and emails (audited)",
                {
                    "200": _json({"type": "object"}),
                    "403": forbidden,
                    "404": _error("no_analysis"),
                },
                parameters=[
                    _query("day", day, "the run's day; default the latest run"),
                    _query("include_personal", {"type": "boolean"}, "add names and emails"),
                ],
                tag=tag,
            )
        },
        "/api/analytics/loyalty": {
            "get": _op(
                "Repeat-reader loyalty: latest run and runs in the range",
                {"200": _json({"type": "object"}), "400": bad, "403": forbidden},
                parameters=range_params[:2],
                tag=tag,
            )
        },
        "/api/analytics/sentiment": {
            "get": _op(
                "Sentiment of feedback comments per day (counts and mean score)",
                {"200": _json({"type": "object"}), "400": bad, "403": forbidden},
                parameters=range_params,
                tag=tag,
            )
        },
    }
