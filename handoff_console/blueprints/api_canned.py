"""Canned replies: search, add, edit, delete, and render for a conversation."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.base import ID_SCHEMA
from handoff_console.schemas.canned import CannedReply, CannedReplyBody, CannedReplyPatch, Deleted
from handoff_console.schemas.desk import CannedText
from handoff_console.services import canned as service
from handoff_console.services.ids import query_id
from library.profile import load_profile

bp = Blueprint("api_canned")

TAG = "canned replies"
BAD_INPUT = (
    "bad_title, bad_shortcut, bad_language, bad_tag, bad_shared, empty_text or text_too_long"
)
MAY_NOT = "forbidden: another librarian's personal reply, or a shared one you did not write"
SEARCH = api.Operation(
    "The shared canned replies and the caller's own",
    api.ItemList(CannedReply),
    query=(
        api.Query("q", {"type": "string"}, "matches title, body, shortcut or tag"),
        api.Query("language", {"type": "string"}, "this language's replies and untagged ones"),
    ),
    tag=TAG,
)
CREATE = api.Operation(
    "Add a canned reply (shared unless shared is false)",
    CannedReply,
    status=201,
    errors={400: BAD_INPUT, 409: "duplicate_shortcut"},
    body=CannedReplyBody,
    tag=TAG,
)


def _edit(summary: str, body: type[CannedReplyBody] | type[CannedReplyPatch]) -> api.Operation:
    """A PUT or PATCH of one canned reply: its new view, or why not."""
    errors = {400: BAD_INPUT, 403: MAY_NOT, 404: "not_found", 409: "duplicate_shortcut"}
    return api.Operation(summary, CannedReply, errors=errors, body=body, tag=TAG)


REPLACE = _edit("Replace a canned reply (fields left out are cleared)", CannedReplyBody)
CHANGE = _edit("Change some fields of a canned reply", CannedReplyPatch)
DELETE = api.Operation(
    "Delete a canned reply", Deleted, errors={403: MAY_NOT, 404: "not_found"}, tag=TAG
)
RENDER = api.Operation(
    "Fill {first_name}, {reader_name}, {librarian_name} and {library_name}",
    CannedText,
    errors={404: "not_found"},
    query=(api.Query("conversation_id", ID_SCHEMA),),
    tag=TAG,
)


@api.route(bp, "GET", "/api/canned-responses", SEARCH)
async def search(request: Request) -> HTTPResponse:
    """Canned replies matching ``?q=``, optionally of ``?language=``."""
    q, language = request.args.get("q"), request.args.get("language")
    me = api.staff(request)
    items = await api.in_store(request, lambda s: service.search(s, me.id, me.role, q, language))
    return response.json({"items": items})


@api.route(bp, "POST", "/api/canned-responses", CREATE)
async def create(request: Request) -> HTTPResponse:
    """Add a canned reply."""
    body, me = api.json_body(request), api.staff(request)
    return await api.answer(request, lambda s: service.create(s, me.id, me.role, body), 201)


@api.route(bp, "PUT", "/api/canned-responses/<canned_id:id>", REPLACE)
async def replace(request: Request, canned_id: int) -> HTTPResponse:
    """Replace a canned reply whole."""
    body, me = api.json_body(request), api.staff(request)
    return await api.answer(
        request, lambda s: service.update(s, canned_id, me.id, me.role, body, whole=True)
    )


@api.route(bp, "PATCH", "/api/canned-responses/<canned_id:id>", CHANGE)
async def change(request: Request, canned_id: int) -> HTTPResponse:
    """Change the given fields of a canned reply."""
    body, me = api.json_body(request), api.staff(request)
    return await api.answer(
        request, lambda s: service.update(s, canned_id, me.id, me.role, body, whole=False)
    )


@api.route(bp, "DELETE", "/api/canned-responses/<canned_id:id>", DELETE)
async def delete(request: Request, canned_id: int) -> HTTPResponse:
    """Delete a canned reply."""
    me = api.staff(request)
    return await api.answer(request, lambda s: service.delete(s, canned_id, me.id, me.role))


@api.route(bp, "GET", "/api/canned-responses/<canned_id:id>/render", RENDER)
async def render(request: Request, canned_id: int) -> HTTPResponse:
    """The text with its placeholders filled for ``?conversation_id=`` (if given)."""
    conversation_id = query_id(request.args.get("conversation_id"), "conversation_id")
    me = api.staff(request).id
    library = load_profile().library.name
    return await api.answer(
        request, lambda s: service.render(s, canned_id, me, conversation_id, library)
    )
