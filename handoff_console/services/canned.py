"""Canned replies: shared or personal, with placeholders filled for one conversation.

Who may change what: a personal reply (``owner_id`` set) only its owner or an admin;
a shared reply its author or an admin (the starter set has no author, so admins
keep it). Everyone sees the shared replies and their own personal ones. Every
create, edit and delete is written to the audit log.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import CannedResponse, Conversation, Reader, StaffRole
from handoff_console.schemas.canned import CannedReply, Deleted
from handoff_console.schemas.desk import CannedText
from handoff_console.services.common import check_text, staff_name
from handoff_console.services.errors import ApiError, BadRequest, Conflict, NotFound

PLACEHOLDERS = ("first_name", "reader_name", "librarian_name", "library_name")
"""What a canned reply may name in braces; any other ``{word}`` stays as it is."""
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_SHORTCUT = re.compile(r"^[\w-]{1,40}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_FIELDS = ("title", "body", "shortcut", "language", "tag", "shared")


class Forbidden(
    ApiError, status=403, code="forbidden", message="You may not change this canned reply."
):
    """The caller may not change this canned reply (someone else's personal one)."""


def canned_view(session: Session, row: CannedResponse, me: int, role: str) -> dict[str, Any]:
    """A canned reply as the API shows it to staff member ``me``."""
    return CannedReply.view_of(
        row,
        shared=row.owner_id is None,
        owner=staff_name(session, row.owner_id),
        can_edit=may_edit(row, me, role),
    )


def may_edit(row: CannedResponse, me: int, role: str) -> bool:
    """Admins edit any reply; others their personal ones and the shared ones they wrote."""
    if role == StaffRole.ADMIN.value:
        return True
    if row.owner_id is not None:
        return bool(row.owner_id == me)
    return row.created_by is not None and bool(row.created_by == me)


def search(
    session: Session, me: int, role: str, q: str | None, language: str | None = None
) -> list[dict[str, Any]]:
    """The shared replies and the caller's own, matching ``q`` (title, body, shortcut, tag)."""
    query = (
        select(CannedResponse)
        .where(or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == me))
        .order_by(CannedResponse.title, CannedResponse.id)
    )
    if q:
        pattern = f"%{q.strip().lstrip('/').lower()}%"
        query = query.where(
            or_(
                CannedResponse.title.ilike(pattern),
                CannedResponse.body.ilike(pattern),
                CannedResponse.shortcut.ilike(pattern),
                CannedResponse.tag.ilike(pattern),
            )
        )
    if language:
        query = query.where(
            or_(CannedResponse.language.is_(None), CannedResponse.language == language)
        )
    return [canned_view(session, r, me, role) for r in session.execute(query).scalars()]


def _optional(payload: dict[str, Any], name: str, limit: int, pattern: re.Pattern[str]) -> Any:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"bad_{name}", f"{name} must be text of at most {limit} characters.")
    value = value.strip().lstrip("/") if name == "shortcut" else value.strip()
    if value and not pattern.match(value):
        raise BadRequest(f"bad_{name}", f"{name} {value!r} is not allowed here.")
    return value or None


def _checked(session: Session, payload: dict[str, Any], row_id: int | None) -> dict[str, Any]:
    """The payload's fields, validated (400) and the shortcut free (409)."""
    values: dict[str, Any] = {}
    if "title" in payload:
        title = payload["title"]
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > 120:
            raise BadRequest("bad_title", "title must be 1 to 120 characters.")
        values["title"] = title.strip()
    if "body" in payload:
        values["body"] = check_text(payload["body"], "body")
    if "shortcut" in payload:
        values["shortcut"] = _optional(payload, "shortcut", 40, _SHORTCUT)
    if "language" in payload:
        values["language"] = _optional(payload, "language", 16, _LANGUAGE)
    if "tag" in payload:
        values["tag"] = _optional(payload, "tag", 40, re.compile(r"^[^\n]+$"))
    if "shared" in payload:
        if not isinstance(payload["shared"], bool):
            raise BadRequest("bad_shared", "shared must be true or false.")
        values["shared"] = payload["shared"]
    shortcut = values.get("shortcut")
    if shortcut:
        taken = session.execute(
            select(CannedResponse.id).where(
                CannedResponse.shortcut == shortcut, CannedResponse.id != (row_id or 0)
            )
        ).first()
        if taken:
            raise Conflict("duplicate_shortcut", f"The shortcut {shortcut!r} is taken.")
    return values


def _apply(row: CannedResponse, values: dict[str, Any], me: int, role: str) -> None:
    for name in ("title", "body", "shortcut", "language", "tag"):
        if name in values:
            setattr(row, name, values[name])
    if "shared" in values:
        if values["shared"] and row.owner_id is not None and role != StaffRole.ADMIN.value:
            # Sharing hands the reply to the admins; its author may still edit it.
            row.created_by = row.owner_id
        row.owner_id = None if values["shared"] else (row.owner_id or me)


def create(session: Session, me: int, role: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Add a canned reply (shared unless ``shared`` is false); a shortcut must be unique."""
    for name in ("title", "body"):
        payload.setdefault(name, None)
    values = _checked(session, payload, None)
    row = CannedResponse(created_by=me, owner_id=None if values.get("shared", True) else me)
    _apply(row, {k: v for k, v in values.items() if k != "shared"}, me, role)
    session.add(row)
    session.flush()
    audit(session, me, "canned.create", f"canned:{row.id}", title=row.title)
    return canned_view(session, row, me, role)


def _editable(session: Session, canned_id: int, me: int, role: str) -> CannedResponse:
    row = session.get(CannedResponse, canned_id)
    if row is None:
        raise NotFound("not_found", f"No canned reply has the id {canned_id}.")
    if not may_edit(row, me, role):
        if row.owner_id is not None:
            raise Forbidden("forbidden", "This is another librarian's personal canned reply.")
        raise Forbidden("forbidden", "Only an admin or its author may change a shared reply.")
    return row


def update(
    session: Session, canned_id: int, me: int, role: str, payload: dict[str, Any], whole: bool
) -> dict[str, Any]:
    """Change a canned reply: every field (``whole``, PUT) or the ones given (PATCH)."""
    row = _editable(session, canned_id, me, role)
    if whole:
        for name in ("title", "body"):
            payload.setdefault(name, None)
        for name in ("shortcut", "language", "tag"):
            payload.setdefault(name, None)
    values = _checked(session, {k: v for k, v in payload.items() if k in _FIELDS}, row.id)
    _apply(row, values, me, role)
    session.flush()
    audit(session, me, "canned.update", f"canned:{row.id}", fields=sorted(values))
    return canned_view(session, row, me, role)


def delete(session: Session, canned_id: int, me: int, role: str) -> dict[str, Any]:
    """Delete a canned reply."""
    row = _editable(session, canned_id, me, role)
    audit(session, me, "canned.delete", f"canned:{row.id}", title=row.title)
    session.delete(row)
    session.flush()
    return Deleted.view(id=canned_id)


def fill(body: str, values: dict[str, str]) -> str:
    """``body`` with each known placeholder replaced by its value."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


def render(
    session: Session,
    canned_id: int,
    staff_id: int,
    conversation_id: int | None,
    library_name: str,
) -> dict[str, Any]:
    """Fill the placeholders for one conversation; an unknown reader becomes "there"."""
    row = session.get(CannedResponse, canned_id)
    if row is None or (row.owner_id is not None and row.owner_id != staff_id):
        raise NotFound("not_found", f"No canned reply has the id {canned_id}.")
    reader_name = None
    if conversation_id is not None:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("not_found", f"No conversation has the id {conversation_id}.")
        if conversation.reader_id:
            reader = session.get(Reader, conversation.reader_id)
            reader_name = (reader.display_name or "").strip() if reader else None
    values = {
        "first_name": reader_name.split()[0] if reader_name else "there",
        "reader_name": reader_name or "there",
        "librarian_name": staff_name(session, staff_id) or "your librarian",
        "library_name": library_name or "the library",
    }
    return CannedText.view(id=row.id, text=fill(row.body, values))
