"""The worker's console API: notifications, follow-ups and reader reminder preferences."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_store import clock
from handoff_console import api
from handoff_console.schemas.worker import (
    FollowUp,
    FollowUpBody,
    Notification,
    NotificationList,
    Preferences,
    PreferencesBody,
)
from handoff_console.services import worker_views as service
from library.profile import library_today

bp = Blueprint("api_notifications")

NO_READER = {404: "No such reader"}
NOTIFICATIONS = api.Operation(
    "The caller's notifications (their own and unassigned ones), newest first",
    NotificationList,
    query=(api.Query("unread", {"type": "string", "enum": ["1"]}, "Unread only"),),
)
MARK_READ = api.Operation(
    "Mark a notification read", Notification, errors={404: "No such notification"}
)
ADD_FOLLOW_UP = api.Operation(
    "Follow up with the reader on a date: the worker asks them on their latest "
    "reachable channel whether things were sorted",
    FollowUp,
    status=201,
    ok_description="Scheduled",
    errors={
        400: "bad_request: due missing, not a date or in the past",
        404: "No such conversation",
        409: "handoff_open: resolve the conversation first",
    },
    body=FollowUpBody,
)
FOLLOW_UPS = api.Operation(
    "A conversation's follow-ups and the reader's answers",
    api.ItemList(FollowUp),
    errors={404: "No such conversation"},
)
CANCEL = api.Operation(
    "Cancel a follow-up not yet sent",
    FollowUp,
    errors={404: "No such follow-up", 409: "not_scheduled"},
)
PREFERENCES = api.Operation(
    "A reader's reminder preferences and consent times", Preferences, errors=NO_READER
)
SET_PREFERENCES = api.Operation(
    "Set a reader's reminder preferences on their behalf (recorded as consent "
    "given through the console)",
    Preferences,
    errors={400: "bad_request", **NO_READER},
    body=PreferencesBody,
)


@api.route(bp, "GET", "/api/notifications", NOTIFICATIONS)
async def list_notifications(request: Request) -> HTTPResponse:
    """The caller's notifications, newest first; ``?unread=1`` for unread ones only."""
    unread_only = request.args.get("unread") in {"1", "true"}
    return await api.as_staff(request, lambda s, me: service.list_notifications(s, me, unread_only))


@api.route(bp, "POST", "/api/notifications/<notification_id:id>/read", MARK_READ)
async def mark_read(request: Request, notification_id: int) -> HTTPResponse:
    """Mark a notification read."""
    return await api.as_staff(request, lambda s, me: service.mark_read(s, me, notification_id))


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/follow-up", ADD_FOLLOW_UP)
async def add_follow_up(request: Request, conversation_id: int) -> HTTPResponse:
    """Follow up with the reader on ``due`` (``{"due": "YYYY-MM-DD", "note": "..."}``)."""
    today = library_today(clock.now())
    return await api.as_caller(
        request,
        lambda s, me, body: service.add_follow_up(s, conversation_id, me, body, today),
        status=201,
    )


@api.route(bp, "GET", "/api/conversations/<conversation_id:id>/follow-ups", FOLLOW_UPS)
async def list_follow_ups(request: Request, conversation_id: int) -> HTTPResponse:
    """A conversation's follow-ups with the readers' answers."""
    items = await api.in_store(request, lambda s: service.list_follow_ups(s, conversation_id))
    return response.json({"items": items})


@api.route(bp, "POST", "/api/follow-ups/<follow_up_id:id>/cancel", CANCEL)
async def cancel_follow_up(request: Request, follow_up_id: int) -> HTTPResponse:
    """Cancel a follow-up not yet sent."""
    return await api.as_staff(request, lambda s, me: service.cancel_follow_up(s, follow_up_id, me))


@api.route(bp, "GET", "/api/readers/<reader_id:id>/preferences", PREFERENCES)
async def get_preferences(request: Request, reader_id: int) -> HTTPResponse:
    """A reader's reminder preferences and consent times."""
    return await api.answer(request, lambda s: service.reader_preferences(s, reader_id))


@api.route(bp, "PUT", "/api/readers/<reader_id:id>/preferences", SET_PREFERENCES)
async def put_preferences(request: Request, reader_id: int) -> HTTPResponse:
    """Set a reader's reminder preferences on their behalf (the reader asked staff)."""
    return await api.as_caller(
        request, lambda s, me, body: service.update_reader_preferences(s, reader_id, me, body)
    )
