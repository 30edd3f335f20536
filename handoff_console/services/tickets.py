"""Tickets: messages readers left for staff, answered on their channel or by email."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import Conversation, OutboundMessage, Reader, Ticket, TicketStatus
from handoff_console.schemas import desk as schemas
from handoff_console.services.common import check_text
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from handoff_console.services.queue import reader_brief
from handoff_console.services.relay import PENDING_EMAIL, Delivery, queue_message

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
STATUSES = [s.value for s in TicketStatus]
TICKET_FIELDS = ("id", "subject", "body", "contact", "created_at", "conversation_id")
"""The ticket's columns the API shows as they are."""


def ticket_view(session: Session, ticket: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it."""
    reader = session.get(Reader, ticket.reader_id) if ticket.reader_id else None
    shown = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    return schemas.Ticket.view(**shown, status=ticket.status.value, reader=reader_brief(reader))


def _status(value: object) -> TicketStatus:
    if not isinstance(value, str) or value not in STATUSES:
        raise BadRequest("bad_status", f"status must be one of {', '.join(STATUSES)}.")
    return TicketStatus(value)


def list_tickets(session: Session, status: str | None) -> list[dict[str, Any]]:
    """Tickets, newest first, optionally of one status."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if status:
        query = query.where(Ticket.status == _status(status))
    return [ticket_view(session, t) for t in session.execute(query).scalars()]


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, or a 404."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("not_found", f"No ticket has the id {ticket_id}.")
    return ticket


def set_status(session: Session, ticket_id: int, staff_id: int, status: object) -> dict[str, Any]:
    """Move a ticket to another status."""
    ticket = get_ticket(session, ticket_id)
    ticket.status = _status(status)
    audit(session, staff_id, "ticket.status", f"ticket:{ticket_id}", status=ticket.status.value)
    session.flush()
    return ticket_view(session, ticket)


def reply(
    session: Session, ticket_id: int, staff_id: int, role: str, text: object
) -> tuple[dict[str, Any], Delivery | None]:
    """Answer a ticket: on the reader's channel (a Delivery to send), or queued for email."""
    body = check_text(text)
    ticket = get_ticket(session, ticket_id)
    contact = (ticket.contact or "").strip()
    delivery: Delivery | None = None
    if _EMAIL.match(contact):
        if ticket.conversation_id is None:
            raise Conflict("no_conversation", "This ticket has no conversation to file under.")
        row = OutboundMessage(
            conversation_id=ticket.conversation_id,
            staff_user_id=staff_id,
            ticket_id=ticket.id,
            text=body,
            status=PENDING_EMAIL,
        )
        session.add(row)
        session.flush()
        result = schemas.TicketReply.view(id=row.id, status=PENDING_EMAIL, delivery="email_queued")
    elif ":" in contact:
        channel, _, sender_id = contact.partition(":")
        conversation = session.execute(
            select(Conversation).where(Conversation.sender_id == sender_id)
        ).scalar_one_or_none()
        if conversation is None:
            raise Conflict("unreachable_contact", f"No conversation on {channel} for this ticket.")
        delivery = queue_message(
            session,
            conversation.id,
            staff_id,
            role,
            body,
            ticket_id=ticket.id,
            require_handoff=False,
        )
        result = schemas.TicketReply.view(
            id=delivery.outbound_id, status="pending", delivery="chat"
        )
    else:
        raise Conflict("no_contact", "This ticket has no email address or chat to reply to.")
    ticket.status = TicketStatus.PENDING
    audit(session, staff_id, "ticket.reply", f"ticket:{ticket_id}")
    return result, delivery
