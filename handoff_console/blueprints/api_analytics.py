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

from handoff_console import api
from handoff_console.schemas.analytics import DailyReply, SummaryReply
from handoff_console.services import analytics_views as views
from handoff_console.services.errors import BadRequest

bp = Blueprint("api_analytics")

ROLES = ("manager", "admin")
TRUE = {"1", "true", "yes"}

DAY = {"type": "string", "format": "date"}
RANGE = (
    api.Query("from", DAY, "first day (inclusive); default 30 days before `to`"),
    api.Query("to", DAY, "last day (inclusive); default yesterday (UTC)"),
    api.Query("channel", {"type": "string"}, "a channel name, or `all` (default)"),
)
RUN_DAY = api.Query("day", DAY, "the run's day; default the latest run")
FORBIDDEN = "forbidden: managers and admins only"
BAD = "bad_date, bad_range, bad_format or bad_flag"
RANGE_ERRORS = {400: BAD, 403: FORBIDDEN}
RUN_ERRORS = {403: FORBIDDEN, 404: "no_analysis"}


def _operation(summary: str, **details: Any) -> api.Operation:
    return api.Operation(summary, roles=ROLES, tag="analytics", **details)


DAILY = _operation(
    "Daily figures of one channel; `format=csv` returns a CSV file",
    ok=DailyReply,
    ok_description="The rows",
    also={"text/csv": {"type": "string"}},
    errors=RANGE_ERRORS,
    query=(*RANGE, api.Query("format", {"type": "string", "enum": ["json", "csv"]})),
)
SUMMARY = _operation(
    "Totals and rates over a range, with the latest run's churn, loyalty, clusters",
    ok=SummaryReply,
    errors=RANGE_ERRORS,
    query=RANGE,
)
CLUSTERS = _operation(
    "Clusters of questions the bot could not answer: label, size, examples",
    errors=RUN_ERRORS,
    query=(RUN_DAY,),
)
CHURN = _operation(
    "Churn list by reader id; include_personal=true adds names and emails (audited)",
    errors=RUN_ERRORS,
    query=(RUN_DAY, api.Query("include_personal", {"type": "boolean"}, "add names and emails")),
)
LOYALTY = _operation(
    "Repeat-reader loyalty: latest run and runs in the range",
    errors=RANGE_ERRORS,
    query=RANGE[:2],
)
SENTIMENT = _operation(
    "Sentiment of feedback comments per day (counts and mean score)",
    errors=RANGE_ERRORS,
    query=RANGE,
)


def _flag(request: Request, name: str) -> bool:
    value = (request.args.get(name) or "").lower()
    if value and value not in TRUE | {"0", "false", "no"}:
        raise BadRequest("bad_flag", f"{name} must be true or false.")
    return value in TRUE


def _range(request: Request) -> tuple[Any, Any]:
    return views.date_range(request.args.get("from"), request.args.get("to"))


@api.route(bp, "GET", "/api/analytics/daily", DAILY)
async def daily(request: Request) -> HTTPResponse:
    """Daily rows of one channel (``all`` by default); ``?format=csv`` for a file."""
    first, last = _range(request)
    channel = request.args.get("channel")
    output = request.args.get("format", "json")
    if output not in {"json", "csv"}:
        raise BadRequest("bad_format", "format must be json or csv.")
    items = await api.in_store(request, lambda s: views.daily(s, first, last, channel))
    if output == "csv":
        name = f"daily-{channel or 'all'}-{first.isoformat()}-{last.isoformat()}.csv"
        return response.text(
            views.daily_csv(items),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    channels = await api.in_store(request, lambda s: views.channels(s, first, last))
    return response.json(
        DailyReply.view(
            from_=first, to=last, channel=channel or "all", channels=channels, items=items
        )
    )


@api.route(bp, "GET", "/api/analytics/summary", SUMMARY)
async def summary(request: Request) -> HTTPResponse:
    """Totals and rates over a range, plus the latest run's churn, loyalty and clusters."""
    first, last = _range(request)
    channel = request.args.get("channel")
    return await api.answer(request, lambda s: views.summary(s, first, last, channel))


@api.route(bp, "GET", "/api/analytics/clusters", CLUSTERS)
async def clusters(request: Request) -> HTTPResponse:
    """Clusters of questions the bot could not answer (latest run, or ``?day=``)."""
    day = views.parse_day(request.args.get("day"), "day")
    return await api.answer(request, lambda s: views.clusters(s, day))


@api.route(bp, "GET", "/api/analytics/churn", CHURN)
async def churn(request: Request) -> HTTPResponse:
    """The churn list by reader id; ``?include_personal=true`` adds names and emails."""
    day = views.parse_day(request.args.get("day"), "day")
    personal = _flag(request, "include_personal")
    return await api.as_staff(request, lambda s, me: views.churn(s, day, personal, me))


@api.route(bp, "GET", "/api/analytics/loyalty", LOYALTY)
async def loyalty(request: Request) -> HTTPResponse:
    """Repeat-reader loyalty: the latest run and the runs in the range."""
    first, last = views.date_range(request.args.get("from"), request.args.get("to"), True)
    return await api.answer(request, lambda s: views.loyalty(s, first, last))


@api.route(bp, "GET", "/api/analytics/sentiment", SENTIMENT)
async def sentiment(request: Request) -> HTTPResponse:
    """Sentiment of feedback comments per day (scores and counts only)."""
    first, last = _range(request)
    channel = request.args.get("channel")
    return await api.answer(request, lambda s: views.sentiment(s, first, last, channel))
