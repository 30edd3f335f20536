"""Adds the JSON API to the console app: its blueprints, error format and shared clients."""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.exceptions import MethodNotSupported
from sanic.exceptions import NotFound as RouteNotFound
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.api import api_error
from handoff_console.blueprints.api_analytics import bp as analytics_bp
from handoff_console.blueprints.api_canned import bp as canned_bp
from handoff_console.blueprints.api_conversations import bp as conversations_bp
from handoff_console.blueprints.api_data_rights import bp as data_rights_bp
from handoff_console.blueprints.api_events import bp as events_bp
from handoff_console.blueprints.api_inbox import bp as inbox_bp
from handoff_console.blueprints.api_login_throttles import bp as login_throttles_bp
from handoff_console.blueprints.api_mail_outbox import bp as mail_outbox_bp
from handoff_console.blueprints.api_notifications import bp as notifications_bp
from handoff_console.blueprints.api_queue import bp as queue_bp
from handoff_console.blueprints.api_readers import bp as readers_bp
from handoff_console.blueprints.api_tickets import bp as tickets_bp
from handoff_console.blueprints.studio_editor import bp as studio_editor_bp
from handoff_console.blueprints.studio_inbox import bp as studio_inbox_bp
from handoff_console.blueprints.studio_models import bp as studio_models_bp
from handoff_console.openapi import bp as openapi_bp
from handoff_console.services.errors import ApiError
from handoff_console.services.events import EventHub
from messaging.rasa_client import RasaClient
from messaging.telegram_typing import TelegramTyping

__all__ = ["API_BLUEPRINTS", "register_api"]

API_BLUEPRINTS = (
    queue_bp,
    inbox_bp,
    conversations_bp,
    tickets_bp,
    canned_bp,
    events_bp,
    openapi_bp,
    analytics_bp,
    readers_bp,
    data_rights_bp,
    mail_outbox_bp,
    notifications_bp,
    login_throttles_bp,
    studio_editor_bp,
    studio_inbox_bp,
    studio_models_bp,
)
"""The JSON API's blueprints (sign-in's JSON routes live in the auth blueprint)."""


def register_api(app: Sanic) -> None:
    """Add the JSON API's blueprints, error format, Rasa and Telegram clients, live-event hub."""
    for blueprint in API_BLUEPRINTS:
        app.blueprint(blueprint)
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
        # A librarian's typing in a Telegram chat (the typing endpoint; off without a token).
        app.ctx.telegram_typing = TelegramTyping.from_env()

    async def stop(app: Sanic, _loop: Any) -> None:
        await app.ctx.events.stop()
        await app.ctx.rasa.close()
        await app.ctx.telegram_typing.close()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
