"""What a librarian sees of one conversation: its handoff, messages, notes and reader.

Each view is built through its model in :mod:`handoff_console.schemas.conversations`,
so the JSON and the OpenAPI document share one definition.

The conversation's state (waiting → with <name> → resolved) is read from its latest
handoff and holder only (:func:`conversation_state`), never from a second flag; the
transcript's system lines ("Sam Reyes joined", "Resolved by Sam Reyes") come from the
handoff's request time and the audit rows its claim, transfer and resolve write
(:func:`system_lines`), so nothing else records them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    Note,
    OutboundMessage,
    Reader,
    SenderKind,
    StaffUser,
    Ticket,
)
from crm_store.redaction import mask_cards_in_text
from crm_store.typing_signals import is_fresh
from handoff_console.schemas import conversations as schemas
from handoff_console.services.common import (
    OPEN_STATUSES,
    get_conversation,
    latest_handoff_of,
    open_handoff_of,
    staff_name,
)
from handoff_console.services.reader_library import day_label, due_relative
from library import mask_card
from library.ils import LibrarySystemError, get_library_system
from messaging.rasa_client import RasaClient, RasaError

__all__ = [
    "conversation_state",
    "conversation_view",
    "handoff_view",
    "is_unanswered",
    "loans_summary",
    "message_view",
    "note_view",
    "reader_view",
    "staff_names",
    "system_lines",
]

logger = logging.getLogger(__name__)

LOANS_TIMEOUT_SECONDS = 3.0


def handoff_view(session: Session, handoff: Handoff | None) -> dict[str, Any] | None:
    """A handoff as the API shows it."""
    if handoff is None:
        return None
    librarian = session.get(StaffUser, handoff.librarian_id) if handoff.librarian_id else None
    return schemas.Handoff.view(
        id=handoff.id,
        status=handoff.status.value,
        reason=handoff.reason,
        librarian=None
        if librarian is None
        else {"id": librarian.id, "name": librarian.display_name},
        requested_at=handoff.requested_at,
        claimed_at=handoff.claimed_at,
        first_response_at=handoff.first_response_at,
        resolved_at=handoff.resolved_at,
        resolution_note=handoff.resolution_note,
        tags=list(handoff.tags or []),
        department=handoff.department,
        transfer_note=handoff.transfer_note,
    )


def conversation_state(handoff: Handoff | None, names: dict[int, str]) -> tuple[str, str]:
    """The conversation's state and its label, from its latest handoff and holder.

    ``bot`` (never handed off), ``waiting``, ``claimed`` ("With Sam Reyes"),
    ``resolved``, ``abandoned`` or ``ticketed``.
    """
    if handoff is None:
        return "bot", "With the assistant"
    status = handoff.status
    if status == HandoffStatus.CLAIMED:
        holder = names.get(int(handoff.librarian_id or 0), "a librarian")
        return status.value, f"With {holder}"
    labels = {
        HandoffStatus.WAITING: "Waiting",
        HandoffStatus.RESOLVED: "Resolved",
        HandoffStatus.ABANDONED: "Abandoned",
        HandoffStatus.TICKETED: "Turned into a ticket",
    }
    return status.value, labels.get(status, status.value)


def state_labels(session: Session, conversation_ids: list[int]) -> dict[int, str]:
    """Each conversation's status label ("Waiting", "With Sam Reyes", "Resolved"…) by id.

    One query for the conversations' handoffs (the latest of each decides) and one for
    the staff names; a conversation never handed off reads "With the assistant".
    """
    latest: dict[int, Handoff] = {}
    if conversation_ids:
        for handoff in session.execute(
            select(Handoff)
            .where(Handoff.conversation_id.in_(conversation_ids))
            .order_by(Handoff.requested_at, Handoff.id)
        ).scalars():
            latest[int(handoff.conversation_id)] = handoff
    names = staff_names(session) if latest else {}
    return {cid: conversation_state(latest.get(cid), names)[1] for cid in conversation_ids}


def is_unanswered(session: Session, conversation_id: int, handoff: Handoff | None) -> bool:
    """Whether the open handoff's reader wrote after the last librarian reply.

    A reply counts from when the librarian sent it (its outbound row), even before
    Rasa has logged it; a reply that failed for good does not count.
    """
    if handoff is None or handoff.status not in OPEN_STATUSES:
        return False
    last_read: datetime | None = session.execute(
        select(func.max(Message.sent_at)).where(
            Message.conversation_id == conversation_id,
            Message.sender_kind == SenderKind.READER,
        )
    ).scalar_one()
    if last_read is None:
        return False
    replies = [
        session.execute(
            select(func.max(Message.sent_at)).where(
                Message.conversation_id == conversation_id,
                Message.sender_kind == SenderKind.LIBRARIAN,
            )
        ).scalar_one(),
        session.execute(
            select(func.max(OutboundMessage.created_at)).where(
                OutboundMessage.conversation_id == conversation_id,
                OutboundMessage.status != "failed",
            )
        ).scalar_one(),
    ]
    last_reply = max((r for r in replies if r is not None), default=None)
    return last_reply is None or last_read > last_reply


def _line_text(entry: AuditEntry, names: dict[int, str]) -> str | None:
    detail = entry.detail or {}
    actor = names.get(int(entry.staff_user_id or 0), "A librarian")

    def named(key: str) -> str:
        return names.get(int(detail.get(key) or 0), "a librarian")

    action = entry.action.removeprefix("handoff.")
    if action == "transfer":
        if detail.get("to_user_id") is not None:
            return f"{actor} transferred the conversation to {named('to_user_id')}"
        department = detail.get("department")
        queue = f"the {department} queue" if department else "the queue"
        return f"{actor} returned the conversation to {queue}"
    texts = {
        "claim": f"{actor} joined",
        "take_over": f"{actor} took over from {named('from_user_id')}",
        "auto_assign": f"Assigned to {named('librarian_id')}",
        "resolve": f"Resolved by {actor}",
        "reopen": f"Reopened by {actor}",
        "abandoned": "Closed: the reader went quiet",
        "ticketed": f"Turned into ticket #{detail.get('ticket_id')}",
    }
    return texts.get(action)


def system_lines(
    session: Session, conversation_id: int, names: dict[int, str]
) -> list[dict[str, Any]]:
    """The transcript's system lines: each handoff request, and who joined, transferred,
    took over and resolved, oldest first."""
    handoffs = list(
        session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)).scalars()
    )
    lines = [
        schemas.SystemLine.view(
            id=f"handoff-{h.id}-requested",
            kind="requested",
            text="Waiting for a librarian",
            at=h.requested_at,
        )
        for h in handoffs
    ]
    subjects = [f"conversation:{conversation_id}"] + [f"handoff:{h.id}" for h in handoffs]
    entries = session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject.in_(subjects), AuditEntry.action.like("handoff.%"))
        .order_by(AuditEntry.created_at, AuditEntry.id)
    ).scalars()
    for entry in entries:
        text = _line_text(entry, names)
        if text is not None:
            kind = entry.action.removeprefix("handoff.")
            lines.append(
                schemas.SystemLine.view(
                    id=f"audit-{entry.id}", kind=kind, text=text, at=entry.created_at
                )
            )
    return sorted(lines, key=lambda line: (line["at"], line["id"]))


def message_view(message: Message, names: dict[int, str]) -> dict[str, Any]:
    """A stored message as the API shows it."""
    return schemas.Message.view(
        id=message.id,
        sender_kind=message.sender_kind.value,
        text=None if message.text is None else mask_cards_in_text(message.text),
        channel=message.channel,
        sent_at=message.sent_at,
        librarian_name=names.get(message.librarian_id) if message.librarian_id else None,
    )


def staff_names(session: Session) -> dict[int, str]:
    """Every staff member's display name by id."""
    return {row[0]: row[1] for row in session.execute(select(StaffUser.id, StaffUser.display_name))}


def note_view(session: Session, note: Note) -> dict[str, Any]:
    """A note as the API shows it."""
    return schemas.Note.view(
        id=note.id,
        author=staff_name(session, note.staff_user_id),
        body=note.body,
        created_at=note.created_at,
    )


def reader_view(session: Session, reader: Reader, conversation_id: int) -> dict[str, Any]:
    identities = session.execute(
        select(ChannelIdentity).where(ChannelIdentity.reader_id == reader.id)
    ).scalars()
    past = list(
        session.execute(
            select(Conversation)
            .where(Conversation.reader_id == reader.id, Conversation.id != conversation_id)
            .order_by(Conversation.started_at.desc())
            .limit(20)
        ).scalars()
    )
    labels = state_labels(session, [int(c.id) for c in past])
    tickets = session.execute(
        select(Ticket).where(Ticket.reader_id == reader.id).order_by(Ticket.created_at.desc())
    ).scalars()
    feedback = session.execute(
        select(Feedback).where(Feedback.reader_id == reader.id).order_by(Feedback.created_at.desc())
    ).scalars()
    return schemas.Reader.view(
        id=reader.id,
        name=reader.display_name,
        email=reader.email,
        card_number_masked=mask_card(reader.card_number) if reader.card_number else None,
        verified=reader.verified_at is not None,
        identities=[{"channel": i.channel, "external_id": i.external_id} for i in identities],
        loans_summary=None,
        past_conversations=[
            {
                "id": c.id,
                "channel": c.channel,
                "started_at": c.started_at,
                "status": c.status.value,
                "state_label": labels[int(c.id)],
            }
            for c in past
        ],
        tickets=[{"id": t.id, "subject": t.subject, "status": t.status.value} for t in tickets],
        feedback=[
            {"rating": f.rating, "comment": f.comment, "created_at": f.created_at} for f in feedback
        ],
    )


def conversation_view(
    session: Session, conversation_id: int, undelivered: list[dict[str, Any]]
) -> dict[str, Any]:
    """Everything a librarian sees about one conversation, with its ``undelivered`` outbox."""
    conversation = get_conversation(session, conversation_id)
    handoff = open_handoff_of(session, conversation_id) or latest_handoff_of(
        session, conversation_id
    )
    names = staff_names(session)
    messages = session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.sent_at, Message.id)
    ).scalars()
    state, state_label = conversation_state(handoff, names)
    notes = session.execute(
        select(Note).where(Note.conversation_id == conversation_id).order_by(Note.created_at)
    ).scalars()
    reader = session.get(Reader, conversation.reader_id) if conversation.reader_id else None
    return schemas.Conversation.view(
        id=conversation.id,
        sender_id=conversation.sender_id,
        channel=conversation.channel,
        status=conversation.status.value,
        state=state,
        state_label=state_label,
        unanswered=is_unanswered(session, conversation_id, handoff),
        handoff=handoff_view(session, handoff),
        messages=[message_view(m, names) for m in messages],
        system_lines=system_lines(session, conversation_id, names),
        notes=[note_view(session, n) for n in notes],
        reader_typing=is_fresh(conversation.reader_typing_at, clock.now()),
        language=conversation.language,
        reader=None if reader is None else reader_view(session, reader, conversation.id),
        undelivered=undelivered,
    )


async def loans_summary(rasa: RasaClient, sender_id: str) -> str | None:
    """A one-line summary of the reader's loans, when they signed in during this conversation.

    The library system answers only for a patron id, which it hands out after a card
    and PIN sign-in; the reader store keeps neither. The tracker's ``patron_id`` slot
    holds it while the reader is signed in, so loans show only then; otherwise None.
    """
    try:
        tracker = await rasa.get_tracker(sender_id)
        patron_id = (tracker.get("slots") or {}).get("patron_id")
        if not patron_id:
            return None
        loans = await asyncio.wait_for(
            get_library_system().loans(str(patron_id)), LOANS_TIMEOUT_SECONDS
        )
    except (RasaError, LibrarySystemError, asyncio.TimeoutError):
        logger.info("no loans summary for %s", sender_id, exc_info=True)
        return None
    if not loans:
        return "No current loans."
    overdue = sum(1 for loan in loans if loan.overdue)
    soonest = min(loan.due_date for loan in loans)
    # Written the library's way, as the reader panel does: "next due Tue 8 Dec 2026".
    today = loans[0].as_of
    summary = (
        f"{len(loans)} on loan, next due {day_label(soonest)} ({due_relative(soonest, today)})"
    )
    return f"{summary}, {overdue} overdue" if overdue else summary
