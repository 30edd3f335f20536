"""The queue, librarians' presence and the staff list."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.conversations import QueueItem
from handoff_console.schemas.desk import Presence, PresenceBody, Staff
from handoff_console.services import queue as queue_service
from handoff_console.services import staff as staff_service

bp = Blueprint("api_queue")

QUEUE = api.Operation("Waiting and claimed handoffs, oldest first", api.ItemList(QueueItem))
PRESENCE = api.Operation(
    "Mark yourself online or away", Presence, errors={400: "Bad presence"}, body=PresenceBody
)
STAFF = api.Operation("Staff with presence, load and capacity", api.ItemList(Staff))


@api.route(bp, "GET", "/api/queue", QUEUE)
async def get_queue(request: Request) -> HTTPResponse:
    """Waiting and claimed handoffs, oldest first."""
    return response.json({"items": await api.in_store(request, queue_service.list_queue)})


@api.route(bp, "POST", "/api/presence", PRESENCE)
async def set_presence(request: Request) -> HTTPResponse:
    """Mark the caller ``online`` or ``away``."""
    presence = api.json_body(request).get("presence")
    return await api.as_staff(request, lambda s, me: staff_service.set_presence(s, me, presence))


@api.route(bp, "GET", "/api/staff", STAFF)
async def list_staff(request: Request) -> HTTPResponse:
    """Active staff with presence, load and capacity (for transfers)."""
    return response.json({"items": await api.in_store(request, staff_service.list_staff)})
