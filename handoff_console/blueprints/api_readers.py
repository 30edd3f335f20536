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
    CatalogueHit,
    HoldBody,
    HoldReply,
    LibraryAccount,
    MergeBody,
    MergeReply,
    ReaderMessageSent,
    ReaderProfile,
    ReaderSummary,
    RenewBody,
    RenewReply,
    SplitBody,
    SplitReply,
    UndoMergeBody,
    UndoMergeReply,
)
from handoff_console.services import reader_library as ils
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
    "A reader's identities on every channel, masked card, conversations, tickets and feedback",
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

ILS_DOWN = {503: "library_system_unavailable: the library system is down or timing out"}
NO_CARD = "no_card_on_file (not verified with a card) or card_not_in_library_system"
LIBRARY = api.Operation(
    "The reader's loans (titles, due dates in the library's words), holds and charges "
    "from the library system, for a verified reader with a card on file",
    LibraryAccount,
    errors={**NO_READER, 409: NO_CARD, **ILS_DOWN},
)
RENEW = _for_editors(
    "Renew one of the reader's loans on their behalf (librarians and admins); audited "
    "as reader.renew_on_behalf",
    RenewReply,
    errors={
        400: "bad_item_id",
        404: "No such reader, or loan_not_found: the item is not on loan to them",
        409: f"renewal_refused (reason: the library system's), {NO_CARD}",
        **ILS_DOWN,
    },
    body=RenewBody,
)
HOLD = _for_editors(
    "Place a hold on the reader's behalf (librarians and admins); audited as reader.hold_on_behalf",
    HoldReply,
    status=201,
    errors={
        400: "bad_request: record_id, format and pickup_branch are needed",
        **NO_READER,
        409: f"hold_refused (reason: the library system's), {NO_CARD}",
        **ILS_DOWN,
    },
    body=HoldBody,
)
CATALOGUE = api.Operation(
    "Search the library's catalogue (for placing a hold on a reader's behalf)",
    api.ItemList(CatalogueHit),
    errors={400: "query_too_long", **ILS_DOWN},
    query=(api.Query("q", {"type": "string", "maxLength": 200}),),
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


async def _card(request: Request, reader_id: int) -> str:
    return await api.in_store(request, lambda s: ils.card_on_file(s, reader_id))


@api.route(bp, "GET", "/api/readers/<reader_id:id>/library", LIBRARY)
async def library_account(request: Request, reader_id: int) -> HTTPResponse:
    """Loans, holds and charges from the library system (503 when it is down)."""
    return response.json(await ils.account(await _card(request, reader_id)))


@api.route(bp, "POST", "/api/readers/<reader_id:id>/renewals", RENEW)
async def renew(request: Request, reader_id: int) -> HTTPResponse:
    """Renew ``item_id`` for the reader; the new due date, audited."""
    body = api.json_body(request)
    me = api.staff(request).id
    renewed = await ils.renew(await _card(request, reader_id), body)
    return await api.answer(request, lambda s: ils.record_renewal(s, reader_id, me, renewed))


@api.route(bp, "POST", "/api/readers/<reader_id:id>/holds", HOLD)
async def place_hold(request: Request, reader_id: int) -> HTTPResponse:
    """Place a hold for the reader (201); audited."""
    body = api.json_body(request)
    me = api.staff(request).id
    placed = await ils.place_hold(await _card(request, reader_id), body)
    return await api.answer(
        request, lambda s: ils.record_hold(s, reader_id, me, placed), status=201
    )


@api.route(bp, "GET", "/api/catalogue", CATALOGUE)
async def catalogue(request: Request) -> HTTPResponse:
    """Catalogue records matching ``q``, best first (at most 10)."""
    return response.json({"items": await ils.catalogue(request.args.get("q", ""))})
