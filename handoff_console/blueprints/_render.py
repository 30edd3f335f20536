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
    # The footer's model version (issue 16): the registry's active record, when the
    # studio's models blueprint has set it up.
    studio_models = getattr(request.app.ctx, "studio_models", None)
    if studio_models is not None:
        context.setdefault("active_model", studio_models.settings.registry.active())
    html = env.get_template(template).render(settings=request.app.ctx.settings, **context)
    return response.html(html, headers=SECURITY_HEADERS)
