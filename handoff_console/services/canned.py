"""Canned responses: reusable replies with ``{reader_name}``-style placeholders."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store.models import CannedResponse, Conversation, Reader
from handoff_console.schemas import desk as schemas
from handoff_console.services.common import check_text, staff_name
from handoff_console.services.errors import BadRequest, Conflict, NotFound

_PLACEHOLDER = re.compile(r"\{(reader_name|librarian_name|library_name)\}")


def canned_view(row: CannedResponse) -> dict[str, Any]:
    """A canned response as the API shows it."""
    fields = schemas.CannedResponse.__fields__
    return schemas.CannedResponse.view(**{name: getattr(row, name) for name in fields})


def search(session: Session, q: str | None) -> list[dict[str, Any]]:
    """Canned responses whose title, body or shortcut contains ``q`` (all when empty)."""
    query = select(CannedResponse).order_by(CannedResponse.title, CannedResponse.id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                CannedResponse.title.ilike(pattern),
                CannedResponse.body.ilike(pattern),
                CannedResponse.shortcut.ilike(pattern),
            )
        )
    return [canned_view(r) for r in session.execute(query).scalars()]


def create(session: Session, staff_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Add a canned response; a shortcut must be unique."""
    title = payload.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 120:
        raise BadRequest("bad_title", "title must be 1 to 120 characters.")
    body = check_text(payload.get("body"), "body")
    shortcut = payload.get("shortcut")
    if shortcut is not None and (not isinstance(shortcut, str) or len(shortcut) > 40):
        raise BadRequest("bad_shortcut", "shortcut must be text of at most 40 characters.")
    shortcut = (shortcut or "").strip() or None
    if (
        shortcut
        and session.execute(
            select(CannedResponse.id).where(CannedResponse.shortcut == shortcut)
        ).first()
    ):
        raise Conflict("duplicate_shortcut", f"The shortcut {shortcut!r} is taken.")
    row = CannedResponse(title=title.strip(), body=body, shortcut=shortcut, created_by=staff_id)
    session.add(row)
    session.flush()
    return canned_view(row)


def render(
    session: Session,
    canned_id: int,
    staff_id: int,
    conversation_id: int | None,
    library_name: str,
) -> dict[str, Any]:
    """Fill the placeholders for one conversation; an unknown reader becomes "there"."""
    row = session.get(CannedResponse, canned_id)
    if row is None:
        raise NotFound("not_found", f"No canned response has the id {canned_id}.")
    reader_name = None
    if conversation_id is not None:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("not_found", f"No conversation has the id {conversation_id}.")
        if conversation.reader_id:
            reader = session.get(Reader, conversation.reader_id)
            reader_name = reader.display_name if reader else None
    values = {
        "reader_name": reader_name or "there",
        "librarian_name": staff_name(session, staff_id) or "your librarian",
        "library_name": library_name,
    }
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], row.body)
    return schemas.CannedText.view(id=row.id, text=text)
