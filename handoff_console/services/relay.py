"""Librarian messages to readers, through Rasa, with a durable outbox.

Each message is first saved as an ``outbound_messages`` row (``pending``), then
appended to the reader's tracker as a ``bot`` event with
``execute_side_effects=true``, which makes Rasa deliver it through the channel's
output. A row that could not be delivered is retried by the worker
(`retry_pending`) until it is sent or has failed ``MAX_ATTEMPTS`` times.

Statuses: ``sending`` (an attempt is in flight) → ``sent``, or back to ``pending``
after a failed attempt, and ``failed`` after ``MAX_ATTEMPTS``; ``pending_email`` waits
for the email channel. A row is claimed for an attempt with a conditional update
(``pending`` → ``sending``), so the console and the worker never send it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation, Handoff, HandoffStatus, OutboundMessage
from handoff_console.services._common import check_text, get_conversation, now, staff_name
from handoff_console.services.conversations import require_holder, staff_names
from messaging.rasa_client import RasaClient, RasaError, librarian_message

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
PENDING_EMAIL = "pending_email"
SENDING = "sending"
STALE_SENDING = timedelta(minutes=10)


@dataclass(frozen=True)
class Delivery:
    """What is needed to hand one outbound row to Rasa."""

    outbound_id: int
    sender_id: str
    channel: str
    text: str
    librarian_id: int | None
    librarian_name: str


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
    """Save a librarian's message as a pending outbound row; return what to deliver."""
    body = check_text(text)
    conversation = get_conversation(session, conversation_id)
    if require_handoff:
        handoff = require_holder(session, conversation_id, staff_id, role)
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


async def deliver(rasa: RasaClient, delivery: Delivery) -> None:
    """Append the message to the reader's tracker; Rasa sends it out on the channel."""
    event = librarian_message(delivery.text, delivery.librarian_id or 0, delivery.librarian_name)
    if delivery.librarian_id is None:
        event["metadata"].pop("librarian_id")
    await rasa.append_events(
        delivery.sender_id,
        [event],
        output_channel=delivery.channel,
        execute_side_effects=True,
    )


def record_outcome(session: Session, outbound_id: int, error: str | None) -> str:
    """Mark one delivery attempt; returns the row's new status."""
    row = session.get(OutboundMessage, outbound_id)
    if row is None:
        return FAILED
    row.attempts += 1
    if error is None:
        row.status = SENT
        row.sent_at = now()
        row.last_error = None
    else:
        row.last_error = error[:2000]
        row.status = FAILED if row.attempts >= MAX_ATTEMPTS else PENDING
    return str(row.status)


def outbound_view(row: OutboundMessage) -> dict[str, Any]:
    """An outbound row as the API shows it."""
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "text": row.text,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


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


def pending_deliveries(session: Session, limit: int = 100) -> list[Delivery]:
    """Pending rows, oldest first, ready for another attempt.

    A row left ``sending`` for ``STALE_SENDING`` (its sender died mid-attempt) is
    pending again.
    """
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == SENDING,
            OutboundMessage.created_at < now() - STALE_SENDING,
        )
        .values(status=PENDING)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(OutboundMessage, Conversation)
        .join(Conversation, Conversation.id == OutboundMessage.conversation_id)
        .where(OutboundMessage.status == PENDING)
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).all()
    names = staff_names(session)
    return [
        Delivery(
            row.id,
            conversation.sender_id,
            conversation.channel,
            row.text,
            row.staff_user_id,
            names.get(row.staff_user_id, "Librarian") if row.staff_user_id else "Librarian",
        )
        for row, conversation in rows
    ]


async def retry_pending(sessions: sessionmaker[Session], rasa: RasaClient) -> dict[str, int]:
    """Try every pending row once more, in order. Returns counts by outcome."""
    with sessions.begin() as session:
        batch = pending_deliveries(session)
    counts = {SENT: 0, PENDING: 0, FAILED: 0}
    for delivery in batch:
        with sessions.begin() as session:
            won = session.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id == delivery.outbound_id,
                    OutboundMessage.status == PENDING,
                )
                .values(status=SENDING)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not won:
            continue  # someone else is sending it
        error: str | None = None
        try:
            await deliver(rasa, delivery)
        except RasaError as problem:
            error = str(problem)
        with sessions.begin() as session:
            status = record_outcome(session, delivery.outbound_id, error)
        counts[status] = counts.get(status, 0) + 1
        if error is not None and status == PENDING:
            # Rasa is down: the rest would fail the same way; try again next run.
            break
    return counts


async def send_and_record(
    sessions: sessionmaker[Session], rasa: RasaClient, delivery: Delivery
) -> str | None:
    """Deliver now and record the outcome; returns the error text, or None when sent."""
    error: str | None = None
    try:
        await deliver(rasa, delivery)
    except RasaError as problem:
        logger.warning("could not relay message %s: %s", delivery.outbound_id, problem)
        error = str(problem)

    def _record() -> None:
        with sessions.begin() as session:
            record_outcome(session, delivery.outbound_id, error)

    await asyncio.to_thread(_record)
    return error


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
