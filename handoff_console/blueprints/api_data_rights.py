"""A reader's rights of access and erasure from the console (issue 18; docs/privacy.md).

``GET /api/readers/<id>/export`` (librarians and admins) answers everything held about
the reader as one JSON document, to download; ``POST /api/readers/<id>/erase`` (admins
only, with ``{"confirm": "erase"}``) erases the reader everywhere, Rasa's tracker store
included. Both are audited with the staff member who asked
(``crm_store.data_rights``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_store.data_rights import erase_reader, export_reader
from crm_store.data_rights.tracker import existing_tracker
from crm_store.models import Reader
from handoff_console import api
from handoff_console.schemas.data_rights import EraseBody, ErasureReply, ReaderExport
from handoff_console.services.errors import BadRequest, NotFound

__all__ = ["bp"]

bp = Blueprint("api_data_rights")

EXPORTERS = ("librarian", "admin")
ERASERS = ("admin",)

EXPORT = api.Operation(
    "Everything held about the reader, as one JSON document to download (librarians "
    "and admins): profile, identities, conversations with tracker events, tickets, "
    "surveys, consents; audited as reader.export",
    ReaderExport,
    errors={403: "Only librarians and admins may export", 404: "No such reader"},
    roles=EXPORTERS,
)
ERASE = api.Operation(
    "Erase the reader everywhere, Rasa's tracker store included, keeping the figures "
    '(admins only; send {"confirm": "erase"}); audited as reader.erase; irreversible',
    ErasureReply,
    errors={
        400: "confirm_missing: the body must say confirm: erase",
        403: "Only admins may erase",
        404: "No such reader",
    },
    roles=ERASERS,
    body=EraseBody,
)


def _reader(session: Session, reader_id: int) -> Reader:
    reader = session.get(Reader, reader_id)
    if reader is None:
        raise NotFound(message="No such reader.")
    return reader


async def _with_tracker(request: Request, work: Any) -> Any:
    """Run ``work(session, tracker)`` in one reader-store transaction; close the engine."""
    tracker: Engine | None = await asyncio.to_thread(
        existing_tracker, request.app.ctx.settings.tracker_database_url
    )
    try:
        return await api.in_store(request, lambda session: work(session, tracker))
    finally:
        if tracker is not None:
            tracker.dispose()


@api.route(bp, "GET", "/api/readers/<reader_id:id>/export", EXPORT)
async def export(request: Request, reader_id: int) -> HTTPResponse:
    """The export document, as an attachment named ``reader-<id>.json``; audited."""
    me = api.staff(request).id

    def _export(session: Session, tracker: Engine | None) -> dict[str, Any]:
        reader = _reader(session, reader_id)
        return export_reader(session, reader, tracker, staff_id=me, via="console")

    document = await _with_tracker(request, _export)
    return response.json(
        ReaderExport.view(**document),
        headers={
            "Content-Disposition": f'attachment; filename="reader-{reader_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@api.route(bp, "POST", "/api/readers/<reader_id:id>/erase", ERASE)
async def erase(request: Request, reader_id: int) -> HTTPResponse:
    """Erase the reader everywhere once ``confirm`` says ``erase``; the counts."""
    body = api.json_body(request)
    if body.get("confirm") != "erase":
        raise BadRequest("confirm_missing", 'Erasing cannot be undone: send {"confirm": "erase"}.')
    me = api.staff(request).id

    def _erase(session: Session, tracker: Engine | None) -> dict[str, Any]:
        result = erase_reader(
            session, _reader(session, reader_id), tracker, staff_id=me, via="console"
        )
        return ErasureReply.view(reader_id=result.reader_id, counts=result.counts)

    return response.json(await _with_tracker(request, _erase))
