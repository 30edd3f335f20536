"""The admin studio's shared frame: who may use it, its tabs, and how its pages render.

Every studio page and API route is for the ``admin`` role only (issue 16). API routes
are declared with :func:`studio_operation` (``roles=STUDIO_ROLES``), read their JSON body
with :func:`parse_body` and edit the training data through :func:`staff_editor`; pages
are decorated with :func:`require_admin`, which answers a librarian or a manager with
the console's HTML 403 page (JSON when the client asks for JSON), and render with
:func:`studio_page`, which fills ``studio_page.html``'s tab bar.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console import api
from handoff_console.auth import auth_error, check_request
from handoff_console.blueprints.pages import staff_page
from handoff_console.error_pages import ErrorView, wants_json
from handoff_console.services.errors import BadRequest
from handoff_console.studio.training_data import BotProject, Editor

__all__ = [
    "FORBIDDEN",
    "STUDIO_ROLES",
    "STUDIO_TABS",
    "StudioTab",
    "forbidden",
    "limit_arg",
    "parse_body",
    "require_admin",
    "staff_editor",
    "studio_operation",
    "studio_page",
]

STUDIO_ROLES: tuple[str, ...] = ("admin",)
"""The roles that may use the studio's pages and API."""

H = TypeVar("H", bound=Callable[..., Coroutine[Any, Any, Any]])
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StudioTab:
    """One tab of the studio's navigation.

    Attributes:
        key: What a page passes as ``tab`` to mark itself current.
        label: The tab's text.
        href: Its page.
        summary: What the page is for (the studio's landing page lists it).
    """

    key: str
    label: str
    href: str
    summary: str


STUDIO_TABS = (
    StudioTab(
        "intents",
        "Training data",
        "/studio/intents",
        "Intents and FAQ topics with their examples: add, edit, move, annotate, rename.",
    ),
    StudioTab(
        "responses",
        "Responses",
        "/studio/responses",
        "The bot's answers and FAQ answers, their buttons and variations, previewed per channel.",
    ),
    StudioTab(
        "changes",
        "Changes",
        "/studio/changes",
        "The pending changes to the training data as a diff: review, discard or download.",
    ),
    StudioTab(
        "inbox",
        "Inbox",
        "/studio/inbox",
        "Real reader messages the bot handled poorly, grouped, to label in one click.",
    ),
    StudioTab(
        "candidates",
        "FAQ candidates",
        "/studio/candidates",
        "Librarians' answers to handed-off questions, proposed as FAQ topics or examples.",
    ),
    StudioTab(
        "health",
        "Intent health",
        "/studio/health",
        "Confusable intents, thin intents, unused FAQ topics and conflicting examples.",
    ),
    StudioTab(
        "models",
        "Models",
        "/studio/models",
        "Train, compare with the live model, activate and roll back.",
    ),
)
"""The studio's tabs, in the order of its tab bar."""

FORBIDDEN = ErrorView(
    403,
    "forbidden",
    "Admins only",
    "The admin studio is for admins. Ask an admin if the assistant's training data, "
    "answers or model need a change.",
)
"""The page (or JSON) a librarian or a manager gets from any studio route."""


def forbidden(request: Request) -> HTTPResponse:
    """Refuse a signed-in caller whose role may not use the studio.

    Returns:
        JSON ``{"error": "forbidden", …}`` under ``/api/`` or when the client asks for
        JSON; otherwise the console's error page, with status 403.
    """
    if request.path.startswith("/api/") or wants_json(request):
        return auth_error("forbidden", 403)
    reply = staff_page(request, "error.html", error=FORBIDDEN)
    reply.status = FORBIDDEN.status
    return reply


def require_admin(handler: H) -> H:
    """Decorate a studio page so that only admins reach it.

    Signed-out callers go to ``/login`` (pages) or get 401 (API), as everywhere in the
    console; cookie-authenticated POSTs need the CSRF token; any other role gets
    :func:`forbidden`.
    """

    @functools.wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        refusal = check_request(request)
        if refusal is not None:
            return refusal
        if request.ctx.staff.role not in STUDIO_ROLES:
            return forbidden(request)
        return await handler(request, *args, **kwargs)

    return cast(H, wrapper)


def studio_page(request: Request, template: str, tab: str, **context: Any) -> HTTPResponse:
    """Render a studio page (a template extending ``studio_page.html``) for an admin.

    Args:
        request: The request, already passed by :func:`require_admin`.
        template: The page's template.
        tab: The key of the page's :data:`STUDIO_TABS` entry (``""`` for none).
        **context: The template's own values.
    """
    return staff_page(request, template, studio_tabs=STUDIO_TABS, studio_tab=tab, **context)


def studio_operation(summary: str, ok: Any, *, tag: str, **details: Any) -> api.Operation:
    """Declare a studio API operation: admins only, listed under ``tag``.

    Args:
        summary: The operation's one-line summary in the OpenAPI document.
        ok: The schema of the successful answer.
        tag: The OpenAPI tag of the studio area (``studio: models`` and so on).
        **details: Any other :class:`~handoff_console.api.Operation` field (``errors``,
            ``body``, ``query``, ``status``, ...).
    """
    return api.Operation(summary, ok, roles=STUDIO_ROLES, tag=tag, **details)


def parse_body(request: Request, model: type[M], code: str) -> M:
    """The request's JSON body checked against ``model``.

    Args:
        request: The API request.
        model: The pydantic model the body must match.
        code: The error code of the 400 answer (each studio area keeps its own).

    Raises:
        BadRequest: ``code``, with a message naming the first wrong field.
    """
    try:
        return model.parse_obj(api.json_body(request))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest(code, f"{where}: {first['msg']}") from error


def limit_arg(request: Request, code: str) -> int:
    """The ``?limit=`` of a studio list: a whole number from 1 to 500, by default 100.

    Raises:
        BadRequest: ``code`` when the limit is not such a number.
    """
    raw = request.args.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise BadRequest(code, "limit is a whole number from 1 to 500.")
    return int(raw)


def staff_editor(
    request: Request,
    session: Session,
    project: BotProject | None = None,
    cancelled: threading.Event | None = None,
) -> Editor:
    """The training-data editor acting for the signed-in admin, in ``session``.

    Args:
        request: The API request (its signed-in staff member is the editor's author).
        session: The store session the edit's audit entry is written in.
        project: The bot project; by default the one the settings name.
        cancelled: Set when the request was given up, so that a save does not land.
    """
    me = api.staff(request)
    project = project or BotProject.from_settings()
    return Editor(project, session, me.id, me.display_name, cancelled)
