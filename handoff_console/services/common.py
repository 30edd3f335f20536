"""Helpers shared by the service modules."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import (
    Conversation,
    Handoff,
    HandoffStatus,
    StaffUser,
)
from handoff_console.services.errors import BadRequest, NotFound
from messaging.text_safety import clean_text

R = TypeVar("R")

OPEN_STATUSES = (HandoffStatus.WAITING, HandoffStatus.CLAIMED)
MAX_TEXT_CHARS = 4000


def now() -> datetime:
    """The current time, timezone-aware UTC, from the store's clock (tests may travel)."""
    return clock.now()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 text of an aware datetime, or None."""
    return value.isoformat() if value is not None else None


def get_or_404(session: Session, model: type[R], row_id: int, noun: str) -> R:
    """The ``model`` row with id ``row_id``, or a 404 naming it a ``noun``."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("not_found", f"No {noun} has the id {row_id}.")
    return row


def get_conversation(session: Session, conversation_id: int) -> Conversation:
    """The conversation, or a 404."""
    return get_or_404(session, Conversation, conversation_id, "conversation")


def open_handoff_of(session: Session, conversation_id: int) -> Handoff | None:
    """The conversation's waiting or claimed handoff, if any."""
    return session.execute(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.requested_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_handoff_of(session: Session, conversation_id: int) -> Handoff | None:
    """The conversation's most recent handoff in any state."""
    return session.execute(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.requested_at.desc(), Handoff.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def staff_name(session: Session, staff_id: int | None) -> str | None:
    """A staff member's display name."""
    if staff_id is None:
        return None
    user = session.get(StaffUser, staff_id)
    return user.display_name if user is not None else None


def check_text(text: object, field: str = "text") -> str:
    """Staff text cleaned with `clean_text`: non-empty, at most 4,000 characters, or a 400.

    Control characters (C0 but newline and tab, DEL, C1) are removed and invalid
    Unicode repaired before anything is stored or relayed, so a librarian's message
    reaches the reader as the same safe text a reader's own message would be.
    """
    if not isinstance(text, str):
        raise BadRequest("empty_text", f"The {field} must not be empty.")
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise BadRequest("empty_text", f"The {field} must not be empty.")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise BadRequest(
            "text_too_long",
            f"The {field} is {len(cleaned)} characters; the limit is {MAX_TEXT_CHARS}.",
        )
    return cleaned
