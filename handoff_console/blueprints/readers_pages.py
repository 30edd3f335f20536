"""The console's reader pages: search (``/readers``) and one reader (``/readers/<id>``).

Like the other pages they are thin shells; ``static/readers.js`` and ``static/reader.js``
do the work through ``/api/readers``. ``/conversations/<id>/reader`` sends the
conversation page's profile link on to the conversation's reader.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from crm_store.models import Conversation
from handoff_console.auth import require_staff
from handoff_console.blueprints._render import render
from handoff_console.services.readers import EDITOR_ROLES

bp = Blueprint("readers_pages")


def _page(request: Request, template: str, **context: object) -> HTTPResponse:
    staff = request.ctx.staff
    return render(
        request,
        template,
        staff=staff,
        csrf_token=staff.csrf_token or "",
        can_edit=staff.role in EDITOR_ROLES,
        **context,
    )


@bp.get("/readers")
@require_staff()
async def readers(request: Request) -> HTTPResponse:
    """Search readers by name, email, card digits or channel address."""
    return _page(request, "readers.html")


@bp.get("/readers/<reader_id:id>")
@require_staff()
async def reader(request: Request, reader_id: int) -> HTTPResponse:
    """One reader: identities, masked card, history, merge, split, message and audit."""
    return _page(request, "reader.html", reader_id=reader_id)


@bp.get("/conversations/<conversation_id:id>/reader")
@require_staff()
async def conversation_reader(request: Request, conversation_id: int) -> HTTPResponse:
    """Redirect to the reader page of the conversation's reader (404 page if none)."""
    sessions = request.app.ctx.sessions

    def _reader_id() -> int | None:
        with sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            return None if conversation is None else conversation.reader_id

    reader_id = await asyncio.to_thread(_reader_id)
    if reader_id is None:
        return _page(request, "readers.html", notice="This conversation has no reader record yet.")
    return response.redirect(f"/readers/{int(reader_id)}")
