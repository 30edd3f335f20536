"""Who is typing in a conversation: the reader (widget) and the librarian (console).

A typing signal is a time on the conversation's row (``reader_typing_at``,
``staff_typing_at`` with ``staff_typing_id``), written by the process that sees the
keystrokes and read by the one that shows them: the web chat channel writes the
reader's and reads the librarian's (:func:`crm_store.handoff_status.handoff_view`),
the console the other way round. A signal counts for :data:`TYPING_SECONDS` after it
was written, so a closed tab or a librarian who walked away never leaves "typing…"
behind; writers refresh it while the typing goes on (throttled to one write every
:data:`REFRESH_SECONDS`), and "stopped" clears it at once.

Every function takes the caller's session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_store.models import Conversation

__all__ = [
    "REFRESH_SECONDS",
    "TYPING_SECONDS",
    "is_fresh",
    "readers_typing",
    "set_reader_typing",
    "set_staff_typing",
]

TYPING_SECONDS = 6.0
"""How long a typing signal lasts unless it is refreshed."""
REFRESH_SECONDS = 2.0
"""The shortest gap between two writes of an ongoing typing signal."""


def is_fresh(at: datetime | None, now: datetime) -> bool:
    """Whether a signal written at ``at`` still counts at ``now``."""
    return at is not None and now - at < timedelta(seconds=TYPING_SECONDS)


def set_reader_typing(session: Session, sender_id: str, on: bool, now: datetime) -> int:
    """Record that the reader of this Rasa ``sender_id`` is typing (or stopped).

    Returns:
        How many conversations changed (0 for a conversation not stored yet).
    """
    result = session.execute(
        update(Conversation)
        .where(Conversation.sender_id == sender_id)
        .values(reader_typing_at=now if on else None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_staff_typing(
    session: Session, conversation_id: int, staff_id: int, on: bool, now: datetime
) -> int:
    """Record that a librarian is typing a reply in this conversation (or stopped).

    Stopping clears only the caller's own signal, so one librarian closing the reply
    box never hides a colleague's typing.

    Returns:
        How many conversations changed.
    """
    statement = update(Conversation).where(Conversation.id == conversation_id)
    if on:
        statement = statement.values(staff_typing_at=now, staff_typing_id=staff_id)
    else:
        statement = statement.where(Conversation.staff_typing_id == staff_id).values(
            staff_typing_at=None, staff_typing_id=None
        )
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def readers_typing(session: Session, now: datetime) -> list[int]:
    """The conversations whose reader is typing now, by id (an indexed range)."""
    since = now - timedelta(seconds=TYPING_SECONDS)
    return sorted(
        int(conversation_id)
        for conversation_id in session.execute(
            select(Conversation.id).where(Conversation.reader_typing_at > since)
        ).scalars()
    )
