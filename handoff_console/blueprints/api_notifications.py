"""The worker's console API: notifications, follow-ups and reader reminder preferences."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_store import clock
from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, staff
from handoff_console.services import worker_views as service
from worker.jobs.follow_ups import library_today

bp = Blueprint("api_notifications")


@bp.get("/api/notifications")
@require_staff()
async def list_notifications(request: Request) -> HTTPResponse:
    """The caller's notifications, newest first; ``?unread=1`` for unread ones only."""
    unread_only = request.args.get("unread") in {"1", "true"}
    me = staff(request).id
    body = await in_store(request, lambda s: service.list_notifications(s, me, unread_only))
    return response.json(body)


@bp.post("/api/notifications/<notification_id:id>/read")
@require_staff()
async def mark_read(request: Request, notification_id: int) -> HTTPResponse:
    """Mark a notification read."""
    me = staff(request).id
    body = await in_store(request, lambda s: service.mark_read(s, me, notification_id))
    return response.json(body)


@bp.post("/api/conversations/<conversation_id:id>/follow-up")
@require_staff()
async def add_follow_up(request: Request, conversation_id: int) -> HTTPResponse:
    """Follow up with the reader on ``due`` (``{"due": "YYYY-MM-DD", "note": "..."}``)."""
    body = json_body(request)
    me = staff(request).id
    today = library_today(clock.now())
    row = await in_store(
        request, lambda s: service.add_follow_up(s, conversation_id, me, body, today)
    )
    return response.json(row, status=201)


@bp.get("/api/conversations/<conversation_id:id>/follow-ups")
@require_staff()
async def list_follow_ups(request: Request, conversation_id: int) -> HTTPResponse:
    """A conversation's follow-ups with the readers' answers."""
    items = await in_store(request, lambda s: service.list_follow_ups(s, conversation_id))
    return response.json({"items": items})


@bp.post("/api/follow-ups/<follow_up_id:id>/cancel")
@require_staff()
async def cancel_follow_up(request: Request, follow_up_id: int) -> HTTPResponse:
    """Cancel a follow-up not yet sent."""
    me = staff(request).id
    row = await in_store(request, lambda s: service.cancel_follow_up(s, follow_up_id, me))
    return response.json(row)


@bp.get("/api/readers/<reader_id:id>/preferences")
@require_staff()
async def get_preferences(request: Request, reader_id: int) -> HTTPResponse:
    """A reader's reminder preferences and consent times."""
    body = await in_store(request, lambda s: service.reader_preferences(s, reader_id))
    return response.json(body)


@bp.put("/api/readers/<reader_id:id>/preferences")
@require_staff()
async def put_preferences(request: Request, reader_id: int) -> HTTPResponse:
    """Set a reader's reminder preferences on their behalf (the reader asked staff)."""
    body = json_body(request)
    me = staff(request).id
    row = await in_store(
        request, lambda s: service.update_reader_preferences(s, reader_id, me, body)
    )
    return response.json(row)
