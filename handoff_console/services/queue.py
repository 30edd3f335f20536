"""The librarians' queue: waiting and claimed handoffs, oldest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Conversation, Handoff, Message, Reader, StaffUser
from crm_store.redaction import mask_cards_in_text
from handoff_console.schemas import conversations as schemas
from handoff_console.services.common import OPEN_STATUSES, now


def reader_brief(reader: Reader | None) -> dict[str, Any] | None:
    """The reader as the queue shows them."""
    if reader is None:
        return None
    return schemas.QueueReader.view(
        id=reader.id, name=reader.display_name, verified=reader.verified_at is not None
    )


def list_queue(session: Session) -> list[dict[str, Any]]:
    """Every waiting or claimed handoff with its conversation, oldest request first."""
    rows = session.execute(
        select(Handoff, Conversation, Reader, StaffUser)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .outerjoin(Reader, Reader.id == Conversation.reader_id)
        .outerjoin(StaffUser, StaffUser.id == Handoff.librarian_id)
        .where(Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.requested_at, Handoff.id)
    ).all()
    last = _last_messages(session, [conversation.id for _, conversation, _, _ in rows])
    current = now()
    items = []
    for handoff, conversation, reader, librarian in rows:
        message = last.get(conversation.id)
        items.append(
            schemas.QueueItem.view(
                conversation_id=conversation.id,
                sender_id=conversation.sender_id,
                channel=conversation.channel,
                handoff_id=handoff.id,
                status=handoff.status.value,
                reason=handoff.reason,
                requested_at=handoff.requested_at,
                waiting_seconds=max(0, int((current - handoff.requested_at).total_seconds())),
                reader=reader_brief(reader),
                last_message=None
                if message is None
                else {
                    "text": None if message.text is None else mask_cards_in_text(message.text),
                    "sender_kind": message.sender_kind.value,
                    "sent_at": message.sent_at,
                },
                librarian=None
                if librarian is None
                else {"id": librarian.id, "name": librarian.display_name},
                department=handoff.department,
            )
        )
    return items


def _last_messages(session: Session, conversation_ids: list[int]) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    latest: dict[int, Message] = {}
    # One query per conversation keeps this portable; the queue is short.
    for conversation_id in conversation_ids:
        message = session.execute(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if message is not None:
            latest[conversation_id] = message
    return latest


def queue_signature(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must differ for the queue to count as changed (ignores the ticking wait time)."""
    return [
        (
            item["handoff_id"],
            item["status"],
            (item["librarian"] or {}).get("id"),
            item["department"],
            (item["last_message"] or {}).get("sent_at"),
            (item["reader"] or {}).get("name"),
        )
        for item in items
    ]
