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
from handoff_console.blueprints.pages import ShellPage, add_shell_pages, staff_page

__all__ = ["READER_PAGES", "bp"]

bp = Blueprint("readers_pages")

READER_PAGES = (
    ShellPage(
        "/readers",
        "readers.html",
        "Search readers by name, email, card digits or channel address.",
    ),
    ShellPage(
        "/readers/<reader_id:id>",
        "reader.html",
        "One reader: identities, masked card, history, merge, split, message and audit.",
    ),
)
"""The two reader pages; ``can_edit`` tells the scripts whether to offer changes."""

add_shell_pages(bp, READER_PAGES)


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
        notice = "This conversation has no reader record yet."
        return staff_page(request, "readers.html", notice=notice)
    return response.redirect(f"/readers/{int(reader_id)}")
