"""The librarian console's pages: queue, conversation, tickets and canned replies.

The pages are thin shells: each renders a template with the signed-in staff member
and the session's CSRF token, and the page's script does the rest through the JSON
API. No business logic lives here.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints._render import render

bp = Blueprint("pages")


def _page(request: Request, template: str, **context: object) -> HTTPResponse:
    staff = request.ctx.staff
    return render(request, template, staff=staff, csrf_token=staff.csrf_token or "", **context)


@bp.get("/queue")
@require_staff()
async def queue(request: Request) -> HTTPResponse:
    """The live queue of conversations waiting for a librarian."""
    return _page(request, "queue.html")


@bp.get("/conversations/<conversation_id:id>")
@require_staff()
async def conversation(request: Request, conversation_id: int) -> HTTPResponse:
    """One conversation: transcript, reply box, notes, reader profile and actions."""
    return _page(request, "conversation.html", conversation_id=conversation_id)


@bp.get("/tickets")
@require_staff()
async def tickets(request: Request) -> HTTPResponse:
    """Messages readers left when no librarian was on duty."""
    return _page(request, "tickets.html")


@bp.get("/canned")
@require_staff()
async def canned(request: Request) -> HTTPResponse:
    """Canned replies: list and create."""
    return _page(request, "canned.html")
