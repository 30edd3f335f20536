"""The librarian console's pages: queue, conversation, tickets and canned replies.

The pages are thin shells: each renders a template with the signed-in staff member
and the session's CSRF token, and the page's script does the rest through the JSON
API. No business logic lives here. :func:`add_shell_pages` routes such pages from a
table, for this blueprint and for the reader pages'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import Handler, auth_error, require_staff
from handoff_console.blueprints._render import render
from handoff_console.error_pages import ErrorView, wants_json
from handoff_console.services.readers import EDITOR_ROLES

__all__ = ["PAGES", "ShellPage", "add_shell_pages", "bp", "refusal_page", "staff_page"]

bp = Blueprint("pages")


@dataclass(frozen=True)
class ShellPage:
    """A page that only renders its template; its script does the rest through the API.

    Attributes:
        uri: The route; its parameters (``<conversation_id:id>``) reach the template
            under their own names.
        template: The Jinja template; its stem names the route.
        summary: What the page shows (the handler's docstring).
        framable: Whether the inbox may show the page in a frame (same origin
            only); every other page refuses to be framed at all.
    """

    uri: str
    template: str
    summary: str
    framable: bool = False


PAGES = (
    ShellPage(
        "/inbox",
        "inbox.html",
        "The inbox: conversation lists, the conversation and the reader, side by side.",
    ),
    ShellPage("/queue", "queue.html", "The live queue of conversations waiting for a librarian."),
    ShellPage(
        "/conversations/<conversation_id:id>",
        "conversation.html",
        "One conversation: transcript, reply box, notes, reader profile and actions.",
        framable=True,
    ),
    ShellPage("/tickets", "tickets.html", "Messages readers left when no librarian was on duty."),
    ShellPage("/canned", "canned.html", "Canned replies: list and create."),
)
"""The librarian pages, in the order of the navigation bar."""


def staff_page(request: Request, template: str, **context: object) -> HTTPResponse:
    """Render a console page for the signed-in staff member (set by ``require_staff``).

    Every page gets ``staff``, the session's ``csrf_token`` (empty for bearer callers)
    and ``can_edit``: whether the caller's role may change reader records.
    """
    staff = request.ctx.staff
    return render(
        request,
        template,
        staff=staff,
        csrf_token=staff.csrf_token or "",
        can_edit=staff.role in EDITOR_ROLES,
        **context,
    )


def _shell(page: ShellPage) -> Handler:
    @require_staff()
    async def show(request: Request, **params: int) -> HTTPResponse:
        reply = staff_page(request, page.template, **params)
        if page.framable:
            reply.headers["X-Frame-Options"] = "SAMEORIGIN"
            reply.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        return reply

    show.__doc__ = page.summary
    return show


def add_shell_pages(blueprint: Blueprint, pages: Iterable[ShellPage]) -> None:
    """Route each page on ``blueprint`` for GET, for signed-in staff only.

    Args:
        blueprint: Where the routes go; each is named after its template's stem.
        pages: The pages to route.
    """
    for page in pages:
        name = page.template.removesuffix(".html")
        blueprint.add_route(_shell(page), page.uri, methods=["GET"], name=name)


add_shell_pages(bp, PAGES)

SUPERVISOR_ROLES = ("manager", "admin")
SUPERVISOR_FORBIDDEN = ErrorView(
    403,
    "forbidden",
    "Managers and admins only",
    "The supervisor view is for managers and admins. Your conversations and the queue "
    "are in the inbox.",
)


def refusal_page(request: Request, view: ErrorView) -> HTTPResponse:
    """Refuse a signed-in caller: the console's error page for a browser, JSON if asked."""
    if wants_json(request):
        return auth_error(view.code, view.status)
    reply = staff_page(request, "error.html", error=view)
    reply.status = view.status
    return reply


@bp.get("/supervisor", name="supervisor")
@require_staff()
async def supervisor(request: Request) -> HTTPResponse:
    """Who is online, each librarian's load and the queue (managers and admins)."""
    if request.ctx.staff.role not in SUPERVISOR_ROLES:
        return refusal_page(request, SUPERVISOR_FORBIDDEN)
    return staff_page(request, "supervisor.html")
