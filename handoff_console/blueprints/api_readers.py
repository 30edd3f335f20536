"""Readers across channels: search, profile, merge, split, audit history, reach a reader.

Every staff role may read; only librarians and admins may merge, split or message a
reader (`handoff_console.services.readers.EDITOR_ROLES`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console import api
from handoff_console.schemas.desk import TextBody
from handoff_console.schemas.readers import (
    AuditItem,
    MergeBody,
    MergeReply,
    ReaderMessageSent,
    ReaderProfile,
    ReaderSummary,
    SplitBody,
    SplitReply,
    UndoMergeBody,
    UndoMergeReply,
)
from handoff_console.services import readers as service
from handoff_console.services import relay
from handoff_console.services.errors import Conflict

bp = Blueprint("api_readers")

EDITORS = service.EDITOR_ROLES
NO_READER = {404: "No such reader"}
FORBIDDEN = {403: "Only librarians and admins may do this"}


def _for_editors(
    summary: str, ok: type[BaseModel], errors: dict[int, str], **details: Any
) -> api.Operation:
    """An operation only librarians and admins may call (403 for the others)."""
    errors = {**FORBIDDEN, **errors}
    return api.Operation(summary, ok, errors=errors, roles=EDITORS, **details)


SEARCH = api.Operation(
    "Search readers by name, email, channel address or the card's last digits; "
    "no q lists the newest",
    api.ItemList(ReaderSummary),
    query=(api.Query("q", {"type": "string", "maxLength": 200}),),
)
VIEW = api.Operation(
    "A reader's identities on every channel, masked card, conversations, tickets "
    "and feedback",
    ReaderProfile,
    errors=NO_READER,
)
MERGE = _for_editors(
    "Merge reader other_id into this one (librarians and admins); audited as "
    "reader.merge with every moved row",
    MergeReply,
    errors={
        400: "invalid_request (itself, no reason) or bad_request",
        **NO_READER,
        409: "card_conflict: verified with different cards; send force",
    },
    body=MergeBody,
)
UNDO_MERGE = _for_editors(
    "Undo a merge into this reader from its reader.merge audit entry (librarians "
    "and admins): the merged reader comes back with its id and rows",
    UndoMergeReply,
    errors={
        400: "invalid_request: undone already, or the id is taken",
        404: "No such reader or merge",
    },
    body=UndoMergeBody,
)
SPLIT = _for_editors(
    "Move identities (with their conversations, tickets and feedback) to a new "
    "reader (librarians and admins); audited as reader.split",
    SplitReply,
    status=201,
    errors={
        400: "invalid_request: none, all, or another reader's identities",
        **NO_READER,
    },
    body=SplitBody,
)
MESSAGE = _for_editors(
    "Message the reader on their most recent reachable channel (librarians and admins)",
    ReaderMessageSent,
    status=201,
    errors={
        400: "empty_text or text_too_long",
        **NO_READER,
        409: "unreachable: no channel can take it; recorded in the audit history "
        "(audit_id), not sent",
        502: "rasa_unreachable: saved as pending; the worker retries it",
    },
    body=TextBody,
)
AUDIT = api.Operation(
    "The reader's audit history, newest first: merges, splits, verification "
    "links, undeliverable messages (card numbers masked)",
    api.ItemList(AuditItem),
    errors=NO_READER,
)


@api.route(bp, "GET", "/api/readers", SEARCH)
async def search(request: Request) -> HTTPResponse:
    """Readers whose name, email or channel address contains ``q``, or whose card ends in it."""
    query = request.args.get("q", "")
    items = await api.in_store(request, lambda s: service.search(s, query))
    return response.json({"items": items})


@api.route(bp, "GET", "/api/readers/<reader_id:id>", VIEW)
async def view(request: Request, reader_id: int) -> HTTPResponse:
    """The reader's identities, masked card, conversations, tickets and feedback."""
    return await api.answer(request, lambda s: service.profile(s, reader_id))


@api.route(bp, "POST", "/api/readers/<reader_id:id>/merge", MERGE)
async def merge(request: Request, reader_id: int) -> HTTPResponse:
    """Fold reader ``other_id`` into this one (409 ``card_conflict`` unless ``force``)."""
    return await api.as_caller(request, lambda s, me, body: service.merge(s, reader_id, me, body))


@api.route(bp, "POST", "/api/readers/<reader_id:id>/split", SPLIT)
async def split(request: Request, reader_id: int) -> HTTPResponse:
    """Move ``identity_ids`` and their conversations to a new reader (201)."""
    return await api.as_caller(
        request, lambda s, me, body: service.split(s, reader_id, me, body), status=201
    )


@api.route(bp, "POST", "/api/readers/<reader_id:id>/undo-merge", UNDO_MERGE)
async def undo_merge(request: Request, reader_id: int) -> HTTPResponse:
    """Undo a merge into this reader (``audit_id`` of its ``reader.merge`` entry)."""
    return await api.as_caller(
        request, lambda s, me, body: service.undo_merge(s, reader_id, me, body)
    )


@api.route(bp, "GET", "/api/readers/<reader_id:id>/audit", AUDIT)
async def audit(request: Request, reader_id: int) -> HTTPResponse:
    """Merges, splits, verification links and undeliverable messages, newest first."""

    def _read(session: Session) -> list[dict[str, Any]]:
        service.profile(session, reader_id)  # 404 for an unknown reader
        return service.audit_history(session, reader_id)

    return response.json({"items": await api.in_store(request, _read)})


@api.route(bp, "POST", "/api/readers/<reader_id:id>/messages", MESSAGE)
async def send_message(request: Request, reader_id: int) -> HTTPResponse:
    """Message the reader on their most recent reachable channel.

    201 when Rasa took it; 502 when Rasa is down (the message stays pending and the
    worker retries it); 409 ``unreachable`` when no channel can take it (recorded in
    the reader's audit history with the text).
    """
    text = api.json_body(request).get("text")
    me = api.staff(request)
    outcome = await api.in_store(
        request, lambda s: service.queue_reader_message(s, reader_id, me.id, me.role, text)
    )
    if isinstance(outcome, service.Undeliverable):
        raise Conflict("unreachable", outcome.message, audit_id=outcome.audit_id)
    await api.send_now(request, outcome, channel=outcome.channel)
    return response.json(
        {"id": outcome.outbound_id, "status": relay.SENT, "channel": outcome.channel},
        status=201,
    )
