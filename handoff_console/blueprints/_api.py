"""Plumbing shared by the JSON API blueprints: errors, bodies, the store, Rasa, live events."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from sanic import Sanic, response
from sanic.exceptions import InvalidUsage, MethodNotSupported
from sanic.exceptions import NotFound as RouteNotFound
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console.auth import StaffIdentity
from handoff_console.services.errors import ApiError, BadRequest
from handoff_console.services.events import EventHub
from messaging.rasa_client import RasaClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SURROGATE = re.compile("[\ud800-\udfff]")
INVALID_UNICODE = "The body contains invalid Unicode (a lone surrogate)."


def staff(request: Request) -> StaffIdentity:
    """The signed-in staff member (set by ``require_staff``)."""
    identity: StaffIdentity = request.ctx.staff
    return identity


def has_lone_surrogate(value: object) -> bool:
    """True when a decoded JSON value holds a lone surrogate in any key or string.

    JSON may escape one (``"\\ud800"``), but no UTF-8 store or socket can carry it,
    so the API refuses such a body with a 400 rather than failing later with a 500.
    Walks without recursion, since a body may nest thousands of levels deep.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or a 400 (not JSON, not an object, lone surrogates)."""
    try:
        body = request.json
    except InvalidUsage as error:
        raise BadRequest("bad_json", "The body is not valid JSON.") from error
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("bad_json", "The body must be a JSON object.")
    if has_lone_surrogate(body):
        raise BadRequest("bad_text", INVALID_UNICODE)
    return body


async def in_store(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction, off the event loop."""
    sessions = request.app.ctx.sessions

    def _run() -> T:
        with sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(_run)


def rasa(request: Request) -> RasaClient:
    """The app's Rasa client."""
    client: RasaClient = request.app.ctx.rasa
    return client


def api_error(request: Request, error: Exception) -> HTTPResponse:
    """Every API error as ``{"error": code, "message": text}``."""
    if isinstance(error, ApiError):
        return response.json(error.body(), status=error.status_code)
    if isinstance(error, RouteNotFound):
        return response.json({"error": "not_found", "message": "No such endpoint."}, status=404)
    if isinstance(error, MethodNotSupported):
        return response.json(
            {"error": "method_not_allowed", "message": "Method not allowed here."}, status=405
        )
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return response.json(
        {"error": "internal_error", "message": "Something went wrong on our side."}, status=500
    )


def register_api(app: Sanic) -> None:
    """Add the JSON API's blueprints, error format, Rasa client and live-event hub."""
    from handoff_console.blueprints.api_analytics import bp as analytics_bp
    from handoff_console.blueprints.api_canned import bp as canned_bp
    from handoff_console.blueprints.api_conversations import bp as conversations_bp
    from handoff_console.blueprints.api_events import bp as events_bp
    from handoff_console.blueprints.api_login_throttles import bp as login_throttles_bp
    from handoff_console.blueprints.api_notifications import bp as notifications_bp
    from handoff_console.blueprints.api_queue import bp as queue_bp
    from handoff_console.blueprints.api_readers import bp as readers_bp
    from handoff_console.blueprints.api_tickets import bp as tickets_bp
    from handoff_console.openapi import bp as openapi_bp

    for blueprint in (queue_bp, conversations_bp, tickets_bp, canned_bp, events_bp, openapi_bp):
        app.blueprint(blueprint)
    app.blueprint(analytics_bp)
    app.blueprint(readers_bp)
    app.blueprint(notifications_bp)
    app.blueprint(login_throttles_bp)
    app.error_handler.add(ApiError, api_error)

    default_handler = app.error_handler.default

    def default(request: Request, error: Exception) -> HTTPResponse:
        if request.path.startswith("/api/"):
            return api_error(request, error)
        return default_handler(request, error)

    app.error_handler.add(RouteNotFound, default)
    app.error_handler.add(MethodNotSupported, default)
    app.error_handler.add(Exception, default)

    async def start(app: Sanic, _loop: Any) -> None:
        settings = app.ctx.settings
        app.ctx.rasa = RasaClient(settings.rasa_url, settings.rasa_token)
        app.ctx.events = EventHub(app.ctx.sessions)

    async def stop(app: Sanic, _loop: Any) -> None:
        await app.ctx.events.stop()
        await app.ctx.rasa.close()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
