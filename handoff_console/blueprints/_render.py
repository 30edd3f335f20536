"""Template rendering shared by the blueprints."""

from __future__ import annotations

from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import current_staff
from handoff_console.security_headers import BASE_HEADERS

SECURITY_HEADERS = BASE_HEADERS  # every response gets them (handoff_console.security_headers)


def render(request: Request, template: str, **context: Any) -> HTTPResponse:
    """Render an autoescaped Jinja2 template with the settings and signed-in staff in context."""
    env = request.app.ctx.templates
    context.setdefault("staff", current_staff(request))
    html = env.get_template(template).render(settings=request.app.ctx.settings, **context)
    return response.html(html, headers=SECURITY_HEADERS)
