"""Canned responses: search, add, and render for a conversation."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.base import ID_SCHEMA
from handoff_console.schemas.desk import CannedBody, CannedResponse, CannedText
from handoff_console.services import canned as service
from handoff_console.services.ids import query_id
from library.profile import load_profile

bp = Blueprint("api_canned")

SEARCH = api.Operation(
    "Search canned responses",
    api.ItemList(CannedResponse),
    query=(api.Query("q", {"type": "string"}, "matches title, body or shortcut"),),
)
CREATE = api.Operation(
    "Add a canned response",
    CannedResponse,
    status=201,
    errors={
        400: "bad_title, bad_shortcut, empty_text or text_too_long",
        409: "duplicate_shortcut",
    },
    body=CannedBody,
)
RENDER = api.Operation(
    "Fill {reader_name}, {librarian_name} and {library_name}",
    CannedText,
    query=(api.Query("conversation_id", ID_SCHEMA),),
)


@api.route(bp, "GET", "/api/canned-responses", SEARCH)
async def search(request: Request) -> HTTPResponse:
    """Canned responses matching ``?q=`` in title, body or shortcut."""
    q = request.args.get("q")
    return response.json({"items": await api.in_store(request, lambda s: service.search(s, q))})


@api.route(bp, "POST", "/api/canned-responses", CREATE)
async def create(request: Request) -> HTTPResponse:
    """Add a canned response."""
    return await api.as_caller(request, service.create, status=201)


@api.route(bp, "GET", "/api/canned-responses/<canned_id:id>/render", RENDER)
async def render(request: Request, canned_id: int) -> HTTPResponse:
    """The text with ``{reader_name}``, ``{librarian_name}`` and ``{library_name}`` filled."""
    conversation_id = query_id(request.args.get("conversation_id"), "conversation_id")
    me = api.staff(request).id
    library = load_profile().library.name
    return await api.answer(
        request, lambda s: service.render(s, canned_id, me, conversation_id, library)
    )
