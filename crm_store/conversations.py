"""The store's conversation API: one owner for creating a conversation and its status.

Every process that needs the conversation row for a Rasa ``sender_id`` calls
:func:`ensure_conversation`; every writer of ``conversations.status`` (the handoff
action, ingestion of Rasa's ``pause``/``resume`` events, the console and the worker's
handoff jobs) calls :func:`set_conversation_status`, which refuses a change older than
the one already recorded, so a late replay cannot undo a newer decision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.db import dialect_insert
from crm_store.models import Conversation, ConversationStatus

__all__ = ["conversation_of", "ensure_conversation", "set_conversation_status"]


def conversation_of(session: Session, sender_id: str) -> Conversation | None:
    """The stored conversation for a Rasa conversation id, if any."""
    found: Conversation | None = session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalar_one_or_none()
    return found


def ensure_conversation(
    session: Session, sender_id: str, channel: str, when: datetime
) -> Conversation:
    """Return the conversation for ``sender_id``, creating it if needed (race-safe)."""
    conversation = conversation_of(session, sender_id)
    if conversation is not None:
        return conversation
    session.execute(
        dialect_insert(session, Conversation)
        .values(
            sender_id=sender_id,
            channel=channel,
            status=ConversationStatus.ACTIVE.value,
            started_at=when,
            last_activity_at=when,
        )
        .on_conflict_do_nothing(index_elements=["sender_id"])
    )
    created: Conversation = session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalar_one()
    return created


def set_conversation_status(
    conversation: Conversation, status: ConversationStatus, when: datetime
) -> bool:
    """Move ``conversation`` to ``status`` as of ``when``, unless a newer change is recorded.

    Catch-up may replay an old ``pause`` after a newer ``resume``, and a job may close
    a handoff after Rasa logged its ``resume``: only a change at least as new as the
    last one moves the status.

    Returns:
        Whether the status was written.
    """
    if conversation.status_changed_at is not None and when < conversation.status_changed_at:
        return False
    conversation.status = status
    conversation.status_changed_at = when
    return True
