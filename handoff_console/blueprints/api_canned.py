"""Canned responses: search, add, and render for a conversation."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, staff
from handoff_console.services import canned as service
from handoff_console.services.ids import query_id
from library.profile import load_profile

bp = Blueprint("api_canned")


@bp.get("/api/canned-responses")
@require_staff()
async def search(request: Request) -> HTTPResponse:
    """Canned responses matching ``?q=`` in title, body or shortcut."""
    q = request.args.get("q")
    items = await in_store(request, lambda s: service.search(s, q))
    return response.json({"items": items})


@bp.post("/api/canned-responses")
@require_staff()
async def create(request: Request) -> HTTPResponse:
    """Add a canned response."""
    body = json_body(request)
    me = staff(request).id
    item = await in_store(request, lambda s: service.create(s, me, body))
    return response.json(item, status=201)


@bp.get("/api/canned-responses/<canned_id:id>/render")
@require_staff()
async def render(request: Request, canned_id: int) -> HTTPResponse:
    """The text with ``{reader_name}``, ``{librarian_name}`` and ``{library_name}`` filled."""
    conversation_id = query_id(request.args.get("conversation_id"), "conversation_id")
    me = staff(request).id
    library = load_profile().library.name
    result = await in_store(
        request, lambda s: service.render(s, canned_id, me, conversation_id, library)
    )
    return response.json(result)
