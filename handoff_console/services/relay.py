"""Librarian messages to readers: the console's half of the relay.

A librarian's message is saved as an ``outbound_messages`` row (:func:`queue_message`,
which claims a waiting handoff for the librarian first and refuses one a colleague
holds, :func:`handoff_console.services.conversations.claim_for_reply`) and then delivered by
:mod:`messaging.relay`, which also retries what could not be delivered. The console
shows what is still on its way (:func:`undelivered`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Handoff, HandoffStatus, OutboundMessage
from handoff_console.schemas.conversations import Outbound
from handoff_console.services.common import check_text, get_conversation, now, staff_name
from handoff_console.services.conversations import claim_for_reply
from messaging.relay import (
    FAILED,
    PENDING,
    PENDING_EMAIL,
    SENDING,
    SENT,
    Delivery,
    send_and_record,
)

__all__ = [
    "FAILED",
    "PENDING",
    "PENDING_EMAIL",
    "SENDING",
    "SENT",
    "Delivery",
    "is_claimed_by",
    "outbound_view",
    "queue_message",
    "send_and_record",
    "undelivered",
]


def queue_message(
    session: Session,
    conversation_id: int,
    staff_id: int,
    role: str,
    text: object,
    *,
    ticket_id: int | None = None,
    require_handoff: bool = True,
) -> Delivery:
    """Save a librarian's message as a pending outbound row; return what to deliver.

    With ``require_handoff`` (a conversation's reply box) the conversation must be in a
    handoff: a waiting one is claimed for the librarian in the same transaction, one a
    colleague holds is a 409 ``already_claimed`` and nothing is saved. Tickets and the
    reader page write outside a handoff (``require_handoff=False``).
    """
    body = check_text(text)
    conversation = get_conversation(session, conversation_id)
    if require_handoff:
        handoff = claim_for_reply(session, conversation_id, staff_id, role)
        if handoff.first_response_at is None:
            handoff.first_response_at = now()
    row = OutboundMessage(
        conversation_id=conversation.id,
        staff_user_id=staff_id,
        ticket_id=ticket_id,
        text=body,
        status=SENDING,
    )
    session.add(row)
    session.flush()
    return Delivery(
        row.id,
        conversation.sender_id,
        conversation.channel,
        body,
        staff_id,
        staff_name(session, staff_id) or "Librarian",
    )


def outbound_view(row: OutboundMessage) -> dict[str, Any]:
    """An outbound row as the API shows it (``schemas.conversations.Outbound``)."""
    return Outbound.view(**{name: getattr(row, name) for name in Outbound.__fields__})


def undelivered(session: Session, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's messages still pending or failed, for the librarian to see."""
    rows = session.execute(
        select(OutboundMessage)
        .where(
            OutboundMessage.conversation_id == conversation_id,
            OutboundMessage.status.in_([PENDING, SENDING, FAILED, PENDING_EMAIL]),
        )
        .order_by(OutboundMessage.id)
    ).scalars()
    return [outbound_view(r) for r in rows]


def is_claimed_by(session: Session, conversation_id: int, staff_id: int) -> bool:
    """Whether ``staff_id`` holds the conversation's open handoff."""
    return (
        session.execute(
            select(Handoff.id).where(
                Handoff.conversation_id == conversation_id,
                Handoff.status == HandoffStatus.CLAIMED,
                Handoff.librarian_id == staff_id,
            )
        ).first()
        is not None
    )
