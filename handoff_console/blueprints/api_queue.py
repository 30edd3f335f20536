"""The queue, librarians' presence and the staff list."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, staff
from handoff_console.services import queue as queue_service
from handoff_console.services import staff as staff_service

bp = Blueprint("api_queue")


@bp.get("/api/queue")
@require_staff()
async def get_queue(request: Request) -> HTTPResponse:
    """Waiting and claimed handoffs, oldest first."""
    items = await in_store(request, queue_service.list_queue)
    return response.json({"items": items})


@bp.post("/api/presence")
@require_staff()
async def set_presence(request: Request) -> HTTPResponse:
    """Mark the caller ``online`` or ``away``."""
    presence = json_body(request).get("presence")
    me = staff(request).id
    result = await in_store(request, lambda s: staff_service.set_presence(s, me, presence))
    return response.json(result)


@bp.get("/api/staff")
@require_staff()
async def list_staff(request: Request) -> HTTPResponse:
    """Active staff with presence, load and capacity (for transfers)."""
    items = await in_store(request, staff_service.list_staff)
    return response.json({"items": items})
