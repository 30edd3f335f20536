"""The console's Sanic application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.models import Conversation
from handoff_console.blueprints import register_api
from handoff_console.blueprints.auth import bp as auth_bp
from handoff_console.blueprints.dashboard import bp as dashboard_bp
from handoff_console.blueprints.dashboard_api import bp as dashboard_api_bp
from handoff_console.blueprints.dashboard_readers import bp as dashboard_readers_bp
from handoff_console.blueprints.dashboard_report import bp as dashboard_report_bp
from handoff_console.blueprints.demo import bp as demo_bp
from handoff_console.blueprints.home import bp as home_bp
from handoff_console.blueprints.pages import bp as pages_bp
from handoff_console.blueprints.readers_pages import bp as readers_pages_bp
from handoff_console.blueprints.static_files import bp as static_bp
from handoff_console.blueprints.studio_pages import bp as studio_pages_bp
from handoff_console.error_pages import ConsoleErrorHandler
from handoff_console.security_headers import install as install_security_headers
from handoff_console.services.ids import ID_PATTERN, ID_ROUTE_TYPE, console_record_id
from handoff_console.settings import ConsoleSettings
from messaging.logs import scope_requests

HERE = Path(__file__).resolve().parent


def create_app(settings: ConsoleSettings | None = None, name: str = "handoff_console") -> Sanic:
    """Build the console app; shared resources go on ``app.ctx`` before the server starts."""
    settings = settings or ConsoleSettings.from_env()
    # Errors: JSON under /api/ (register_api), a page for browsers elsewhere.
    app = Sanic(name, error_handler=ConsoleErrorHandler())
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    # Before any blueprint: routes are parsed when added, and ids use <name:id>.
    app.router.register_pattern(ID_ROUTE_TYPE, console_record_id, ID_PATTERN)
    app.blueprint(static_bp)
    app.blueprint(home_bp)
    app.blueprint(demo_bp)
    app.blueprint(auth_bp)
    app.blueprint(pages_bp)
    app.blueprint(readers_pages_bp)
    app.blueprint(studio_pages_bp)
    app.blueprint(dashboard_bp)
    app.blueprint(dashboard_api_bp)
    app.blueprint(dashboard_readers_bp)
    app.blueprint(dashboard_report_bp)
    register_api(app)
    # CSP, nosniff, referrer and framing rules on every response (docs/security.md).
    install_security_headers(app, settings.rasa_public_url)

    def sender_of(row: int) -> str | None:
        with app.ctx.sessions() as session:
            sender: str | None = session.execute(
                select(Conversation.sender_id).where(Conversation.id == row)
            ).scalar_one_or_none()
        return sender

    # A request about one conversation logs its row id, and its Rasa sender id (looked
    # up only if the request logs a line), as the other processes do (docs/security.md).
    scope_requests(app, sender_of)

    async def open_store(app: Sanic, _loop: Any) -> None:
        app.ctx.engine = make_engine(settings.database_url)
        app.ctx.sessions = make_session_factory(app.ctx.engine)

    async def close_store(app: Sanic, _loop: Any) -> None:
        app.ctx.engine.dispose()

    app.register_listener(open_store, "before_server_start")
    app.register_listener(close_store, "after_server_stop")
    return app
