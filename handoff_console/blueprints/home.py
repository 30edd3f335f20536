"""Home page: the health of every service, refreshed live; plus the health API."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.blueprints._render import render
from handoff_console.health import check_all
from handoff_console.schemas.system import HealthReport

bp = Blueprint("home")


@bp.get("/healthz")
async def healthz(_: Request) -> HTTPResponse:
    """Liveness of the console process itself."""
    return response.json({"status": "ok"})


@api.route(
    bp,
    "GET",
    "/api/health",
    api.Operation(
        "Health of every service, and the ingestion lag and quarantine",
        HealthReport,
        roles=api.PUBLIC,
        tag="system",
    ),
)
async def api_health(request: Request) -> HTTPResponse:
    """Every service's health as JSON.

    ``{"status": "up"|"degraded", "services": [...], "ingestion": {...}}``: the
    services are the Rasa server, the action server, the reader store, the worker and
    ingestion; ``ingestion`` has the figures behind its row (events and seconds behind,
    quarantined events, the thresholds).
    """
    report = await check_all(request.app.ctx.settings, request.app.ctx.sessions)
    return response.json(report.as_dict())


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    """The console's home page."""
    report = await check_all(request.app.ctx.settings, request.app.ctx.sessions)
    return render(request, "home.html", services=report.services, ingestion=report.ingestion)
