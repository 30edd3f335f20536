"""Readers across channels: search, profile, merge, split, audit history, reach a reader.

Every staff role may read; only librarians and admins may merge, split or message a
reader (`handoff_console.services.readers.EDITOR_ROLES`).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, rasa, staff
from handoff_console.services import readers as service
from handoff_console.services import relay
from handoff_console.services.errors import Conflict, UpstreamUnavailable

bp = Blueprint("api_readers")

EDITORS = service.EDITOR_ROLES


@bp.get("/api/readers")
@require_staff()
async def search(request: Request) -> HTTPResponse:
    """Readers whose name, email or channel address contains ``q``, or whose card ends in it."""
    query = request.args.get("q", "")
    items = await in_store(request, lambda s: service.search(s, query))
    return response.json({"items": items})


@bp.get("/api/readers/<reader_id:id>")
@require_staff()
async def view(request: Request, reader_id: int) -> HTTPResponse:
    """The reader's identities, masked card, conversations, tickets and feedback."""
    return response.json(await in_store(request, lambda s: service.profile(s, reader_id)))


@bp.post("/api/readers/<reader_id:id>/merge")
@require_staff(*EDITORS)
async def merge(request: Request, reader_id: int) -> HTTPResponse:
    """Fold reader ``other_id`` into this one (409 ``card_conflict`` unless ``force``)."""
    body = json_body(request)
    me = staff(request).id
    result = await in_store(request, lambda s: service.merge(s, reader_id, me, body))
    return response.json(result)


@bp.post("/api/readers/<reader_id:id>/split")
@require_staff(*EDITORS)
async def split(request: Request, reader_id: int) -> HTTPResponse:
    """Move ``identity_ids`` and their conversations to a new reader (201)."""
    body = json_body(request)
    me = staff(request).id
    result = await in_store(request, lambda s: service.split(s, reader_id, me, body))
    return response.json(result, status=201)


@bp.post("/api/readers/<reader_id:id>/undo-merge")
@require_staff(*EDITORS)
async def undo_merge(request: Request, reader_id: int) -> HTTPResponse:
    """Undo a merge into this reader (``audit_id`` of its ``reader.merge`` entry)."""
    body = json_body(request)
    me = staff(request).id
    result = await in_store(request, lambda s: service.undo_merge(s, reader_id, me, body))
    return response.json(result)


@bp.get("/api/readers/<reader_id:id>/audit")
@require_staff()
async def audit(request: Request, reader_id: int) -> HTTPResponse:
    """Merges, splits, verification links and undeliverable messages, newest first."""

    def _read(session: Session) -> list[dict[str, Any]]:
        service.profile(session, reader_id)  # 404 for an unknown reader
        return service.audit_history(session, reader_id)

    return response.json({"items": await in_store(request, _read)})


@bp.post("/api/readers/<reader_id:id>/messages")
@require_staff(*EDITORS)
async def send_message(request: Request, reader_id: int) -> HTTPResponse:
    """Message the reader on their most recent reachable channel.

    201 when Rasa took it; 502 when Rasa is down (the message stays pending and the
    worker retries it); 409 ``unreachable`` when no channel can take it (recorded in
    the reader's audit history with the text).
    """
    text = json_body(request).get("text")
    me = staff(request)
    outcome = await in_store(
        request, lambda s: service.queue_reader_message(s, reader_id, me.id, me.role, text)
    )
    if isinstance(outcome, service.Undeliverable):
        raise Conflict("unreachable", outcome.message, audit_id=outcome.audit_id)
    error = await relay.send_and_record(request.app.ctx.sessions, rasa(request), outcome)
    if error is not None:
        raise UpstreamUnavailable(
            "rasa_unreachable",
            "The chat server could not be reached; the message will be retried.",
            id=outcome.outbound_id,
            status=relay.PENDING,
            channel=outcome.channel,
        )
    return response.json(
        {"id": outcome.outbound_id, "status": relay.SENT, "channel": outcome.channel},
        status=201,
    )
