"""The dashboard's Readers tab (issue 17): reader intelligence, page and API.

``/dashboard/readers`` is a shell page (``static/dashboard_readers.js`` draws the
charts and tables from the API). The API, managers and admins only:

- ``GET /api/dashboard/readers/acquisition``: new readers by month and channel;
- ``GET /api/dashboard/readers/first-intents``: first-contact intents;
- ``GET /api/dashboard/readers/cohorts``: cohort retention;
- ``GET /api/dashboard/readers/churn``: readers at risk, with factors;
- ``GET /api/dashboard/readers/loyalty``: loyalty segments, CSAT, scatter points;
- ``GET /api/dashboard/readers/key``: the value (RFM) segmentation and key readers.

Each answers JSON, or its table as a file with ``?format=csv|xlsx``
(:mod:`handoff_console.dashboard.exports`). The churn and key-reader lists take
``?names=true`` to add names; that is audited (``dashboard.reveal_names``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from crm_store.reader_value import SEGMENTS
from handoff_console import api
from handoff_console.auth import require_staff
from handoff_console.blueprints.dashboard import DASHBOARD_ROLES, dashboard_page
from handoff_console.dashboard import exports
from handoff_console.dashboard import readers as views
from handoff_console.schemas.dashboard_readers import (
    AcquisitionReply,
    ChurnReply,
    CohortReply,
    IntentsReply,
    KeyReadersReply,
    LoyaltyReply,
)
from handoff_console.services.errors import BadRequest

__all__ = ["bp", "read_flag"]

bp = Blueprint("dashboard_readers")

FORBIDDEN = "forbidden: managers and admins only"
MONTHS = api.Query("months", {"type": "integer", "minimum": 1, "maximum": views.MAX_MONTHS})
NAMES = api.Query("names", {"type": "boolean"}, "add the readers' names (audited)")
SEGMENT = api.Query(
    "segment",
    {"type": "string", "enum": [*SEGMENTS, "all"]},
    "the value segment to list; `key` by default",
)
LIMIT = api.Query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": views.MAX_LIMIT},
    "at most this many readers in the JSON list (100 by default); exports hold all",
)
TRUE, FALSE = {"1", "true", "yes"}, {"", "0", "false", "no"}


def _operation(summary: str, ok: Any, query: tuple[api.Query, ...], bad: str) -> api.Operation:
    return api.Operation(
        summary,
        ok=ok,
        roles=DASHBOARD_ROLES,
        tag="dashboard",
        also=exports.FILE_MEDIA,
        query=(*query, exports.FORMAT_QUERY),
        errors={400: ", ".join(filter(None, (bad, "bad_format"))), 403: FORBIDDEN},
    )


def read_flag(request: Request, name: str) -> bool:
    """A true/false query parameter (false when absent); else a 400 ``bad_flag``."""
    value = (request.args.get(name) or "").lower()
    if value not in TRUE | FALSE:
        raise BadRequest("bad_flag", f"{name} must be true or false.")
    return value in TRUE


def _cap(request: Request) -> int | None:
    """``?limit=`` for a JSON list; None for a file, which holds every row."""
    limit = views.parse_limit(request.args.get("limit"))
    return limit if exports.requested_format(request) == "json" else None


async def _answer(request: Request, build: Callable[[Session], views.View]) -> HTTPResponse:
    """Check ``?format=`` first, build the view in one transaction, answer JSON or a file."""
    exports.requested_format(request)
    payload, table = await api.in_store(request, build)
    return exports.respond(request, table, payload)


@bp.get("/dashboard/readers", name="dashboard_readers")
@require_staff(*DASHBOARD_ROLES)
async def page(request: Request) -> HTTPResponse:
    """The Readers tab: acquisition, cohorts, churn, loyalty and key readers."""
    return dashboard_page(
        request,
        "dashboard_readers.html",
        "readers",
        ("vendor/echarts/echarts.min.js", "dashboard_readers.js"),
    )


MONTHLY: tuple[tuple[str, str, Any, Callable[[Session, int], views.View]], ...] = (
    ("acquisition", "New readers by month and channel", AcquisitionReply, views.acquisition_view),
    ("first-intents", "First-contact intents of new readers", IntentsReply, views.intents_view),
    ("cohorts", "Cohort retention by month of first contact", CohortReply, views.cohorts_view),
)
"""The views over the last ``?months=`` months: path, summary, reply model, builder."""


def _monthly(path: str, summary: str, build: Callable[[Session, int], views.View]) -> Any:
    async def handler(request: Request) -> HTTPResponse:
        months = views.parse_months(request.args.get("months"))
        return await _answer(request, lambda s: build(s, months))

    handler.__name__ = path.replace("-", "_")
    handler.__doc__ = f"{summary} over the last ``?months=`` months (12 by default)."
    return handler


for _path, _summary, _model, _build in MONTHLY:
    api.route(
        bp,
        "GET",
        f"/api/dashboard/readers/{_path}",
        _operation(_summary, _model, (MONTHS,), "bad_months"),
    )(_monthly(_path, _summary, _build))


@api.route(
    bp,
    "GET",
    "/api/dashboard/readers/churn",
    _operation(
        "Readers at risk, with the factors of each score",
        ChurnReply,
        (NAMES, LIMIT),
        "bad_flag, bad_limit",
    ),
)
async def churn(request: Request) -> HTTPResponse:
    """The latest churn list, scored; ``?names=true`` adds names (audited)."""
    names = read_flag(request, "names")
    cap = _cap(request)
    output = exports.requested_format(request)
    me = api.staff(request).id
    return await _answer(request, lambda s: views.churn_view(s, names, me, output, limit=cap))


@api.route(
    bp,
    "GET",
    "/api/dashboard/readers/loyalty",
    _operation("Loyalty segments, CSAT by segment, satisfaction vs loyalty", LoyaltyReply, (), ""),
)
async def loyalty(request: Request) -> HTTPResponse:
    """Loyalty segments of the loyalty window, their CSAT, and each rated reader's point."""
    return await _answer(request, views.loyalty_view)


@api.route(
    bp,
    "GET",
    "/api/dashboard/readers/key",
    _operation(
        "Value segmentation (recency, frequency, breadth) and the key readers",
        KeyReadersReply,
        (SEGMENT, NAMES, LIMIT),
        "bad_segment, bad_flag, bad_limit",
    ),
)
async def key_readers(request: Request) -> HTTPResponse:
    """The readers of one value segment (``key`` by default); ``?names=true`` is audited."""
    segment = views.parse_segment(request.args.get("segment"))
    names = read_flag(request, "names")
    cap = _cap(request)
    output = exports.requested_format(request)
    me = api.staff(request).id
    return await _answer(
        request, lambda s: views.key_readers_view(s, segment, names, me, output, limit=cap)
    )
