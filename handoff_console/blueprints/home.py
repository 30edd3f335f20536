"""Home page: the health of every service, refreshed live; plus the health API."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.blueprints._render import render
from handoff_console.health import check_all

bp = Blueprint("home")


@bp.get("/healthz")
async def healthz(_: Request) -> HTTPResponse:
    """Liveness of the console process itself."""
    return response.json({"status": "ok"})


@bp.get("/api/health")
async def api_health(request: Request) -> HTTPResponse:
    """Every service's health as JSON: ``{"services": [...], "status": "up"|"degraded"}``."""
    services = await check_all(request.app.ctx.settings, request.app.ctx.sessions)
    overall = "up" if all(s.status == "up" for s in services) else "degraded"
    return response.json({"status": overall, "services": [s.as_dict() for s in services]})


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    """The console's home page."""
    services = await check_all(request.app.ctx.settings, request.app.ctx.sessions)
    return render(request, "home.html", services=services)
