"""Tickets: messages readers left for staff, answered on their channel or by email."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import (
    Conversation,
    OutboundMessage,
    Reader,
    StaffUser,
    Ticket,
    TicketStatus,
)
from crm_store.redaction import mask_cards_in_text
from crm_store.repositories import subject_from
from handoff_console.schemas import desk as schemas
from handoff_console.schemas.tickets import TicketReplyEntry, TicketView
from handoff_console.services.common import check_text, get_or_404
from handoff_console.services.errors import BadRequest, Conflict
from handoff_console.services.queue import reader_brief
from handoff_console.services.relay import PENDING_EMAIL, Delivery, queue_message

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
STATUSES = [s.value for s in TicketStatus]
TICKET_FIELDS = ("id", "body", "contact", "created_at", "updated_at", "conversation_id")
"""The ticket's columns the API shows as they are."""


def subject_of(ticket: Ticket) -> str:
    """The reader's first question (the body's first line), shortened at a word.

    Tickets the worker made before it wrote the reader's question as the subject are
    stored as "Chat not answered: <reason>"; the reader's own words say more, so the
    body comes first.
    """
    return subject_from(ticket.body) or str(ticket.subject or "(no subject)")


def _replies(session: Session, tickets: list[Ticket]) -> dict[int, list[dict[str, Any]]]:
    """Every reply sent on these tickets, oldest first, by ticket id."""
    found: dict[int, list[dict[str, Any]]] = {t.id: [] for t in tickets}
    by_email = {t.id for t in tickets if _EMAIL.match((t.contact or "").strip())}
    if not tickets:
        return found
    rows = session.execute(
        select(OutboundMessage, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == OutboundMessage.staff_user_id)
        .where(OutboundMessage.ticket_id.in_(list(found)))
        .order_by(OutboundMessage.created_at, OutboundMessage.id)
    ).all()
    for row, author in rows:
        found[row.ticket_id].append(
            TicketReplyEntry.view(
                id=row.id,
                text=mask_cards_in_text(row.text or ""),
                author=author,
                status=row.status,
                delivery="email" if row.ticket_id in by_email else "chat",
                created_at=row.created_at,
                sent_at=row.sent_at,
            )
        )
    return found


def ticket_view(
    session: Session, ticket: Ticket, replies: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A ticket as the API shows it, with its assignee and reply history."""
    reader = session.get(Reader, ticket.reader_id) if ticket.reader_id else None
    assignee = session.get(StaffUser, ticket.assignee_id) if ticket.assignee_id else None
    shown = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    # Staff see card numbers masked everywhere, a ticket's text and its replies too.
    shown["body"] = mask_cards_in_text(ticket.body or "")
    return TicketView.view(
        **shown,
        subject=subject_of(ticket),
        status=ticket.status.value,
        reader=reader_brief(reader),
        assignee=None if assignee is None else {"id": assignee.id, "name": assignee.display_name},
        replies=_replies(session, [ticket])[ticket.id] if replies is None else replies,
    )


def _status(value: object) -> TicketStatus:
    if not isinstance(value, str) or value not in STATUSES:
        raise BadRequest("bad_status", f"status must be one of {', '.join(STATUSES)}.")
    return TicketStatus(value)


def list_tickets(
    session: Session, status: str | None, assignee: str | None = None, me: int | None = None
) -> list[dict[str, Any]]:
    """Tickets, newest first, optionally of one status and assignee (``me`` or ``none``)."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if status:
        query = query.where(Ticket.status == _status(status))
    if assignee == "me":
        query = query.where(Ticket.assignee_id == me)
    elif assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee:
        raise BadRequest("bad_assignee", "assignee must be me or none.")
    tickets = list(session.execute(query).scalars())
    replies = _replies(session, tickets)
    return [ticket_view(session, t, replies[t.id]) for t in tickets]


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, or a 404."""
    return get_or_404(session, Ticket, ticket_id, "ticket")


def _assignee(session: Session, value: object) -> int | None:
    if value is None:
        return None
    user = session.get(StaffUser, value) if type(value) is int and value > 0 else None
    if user is None or not user.active:
        raise BadRequest("bad_assignee", "assignee_id must be an active staff member's id.")
    return int(user.id)


def update(
    session: Session, ticket_id: int, staff_id: int, payload: dict[str, Any]
) -> dict[str, Any]:
    """Change a ticket's status, its assignee (``null`` unassigns), or both; audited."""
    ticket = get_ticket(session, ticket_id)
    if "status" not in payload and "assignee_id" not in payload:
        raise BadRequest("bad_request", "Give a status, an assignee_id, or both.")
    if "status" in payload:
        ticket.status = _status(payload["status"])
        audit(session, staff_id, "ticket.status", f"ticket:{ticket_id}", status=ticket.status.value)
    if "assignee_id" in payload:
        ticket.assignee_id = _assignee(session, payload["assignee_id"])
        audit(
            session, staff_id, "ticket.assign", f"ticket:{ticket_id}", assignee=ticket.assignee_id
        )
    session.flush()
    return ticket_view(session, ticket)


def set_status(session: Session, ticket_id: int, staff_id: int, status: object) -> dict[str, Any]:
    """Move a ticket to another status."""
    return update(session, ticket_id, staff_id, {"status": status})


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
