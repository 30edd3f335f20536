"""Librarian messages to readers, through Rasa, with a durable outbox (the delivery half).

Each message is first saved as an ``outbound_messages`` row (the console's
``queue_message``), then appended to the reader's tracker as a ``bot`` event with
``execute_side_effects=true``, which makes Rasa deliver it through the channel's
output. A row that could not be delivered is retried by the worker
(:func:`retry_pending`) until it is sent or has failed ``MAX_ATTEMPTS`` times.

Statuses: ``sending`` (an attempt is in flight) → ``sent``, or back to ``pending``
after a failed attempt, and ``failed`` after ``MAX_ATTEMPTS``; ``pending_email`` waits
for the email channel. A row is claimed for an attempt with a conditional update
(``pending`` → ``sending``, :mod:`messaging.outbox`), so the console and the worker
never send it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Conversation, OutboundMessage, StaffUser
from messaging import outbox
from messaging.logs import conversation_scope
from messaging.outbox import SENDING, SENT, Outbox
from messaging.rasa_client import RasaClient, librarian_message

__all__ = [
    "FAILED",
    "MAX_ATTEMPTS",
    "OUTBOX",
    "PENDING",
    "PENDING_EMAIL",
    "SENDING",
    "SENT",
    "STALE_SENDING",
    "Delivery",
    "deliver",
    "pending_deliveries",
    "record_outcome",
    "retry_pending",
    "send_and_record",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PENDING = "pending"
FAILED = "failed"
PENDING_EMAIL = "pending_email"
STALE_SENDING = timedelta(minutes=10)
"""A row ``sending`` this long after it was written lost its sender; it is pending again."""

OUTBOX = Outbox(
    OutboundMessage,
    ready=PENDING,
    gave_up=FAILED,
    max_attempts=MAX_ATTEMPTS,
    error_chars=2000,
    count_attempts="outcome",
)
"""The outbox of librarians' messages."""


@dataclass(frozen=True)
class Delivery:
    """What is needed to hand one outbound row to Rasa."""

    outbound_id: int
    sender_id: str
    channel: str
    text: str
    librarian_id: int | None
    librarian_name: str


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


async def _attempt(rasa: RasaClient, delivery: Delivery) -> str | None:
    what = f"librarian message {delivery.outbound_id}"
    return await outbox.attempt(deliver(rasa, delivery), what)


def record_outcome(session: Session, outbound_id: int, error: str | None) -> str:
    """Mark one delivery attempt; returns the row's new status."""
    row = session.get(OutboundMessage, outbound_id)
    if row is None:
        return FAILED
    return outbox.record_outcome(row, OUTBOX, error, clock.now())


def pending_deliveries(session: Session, limit: int = 100) -> list[Delivery]:
    """Pending rows, oldest first, ready for another attempt.

    A row left ``sending`` for ``STALE_SENDING`` (its sender died mid-attempt) is
    pending again.
    """
    outbox.release_stale(session, OUTBOX, OutboundMessage.created_at, clock.now() - STALE_SENDING)
    rows = session.execute(
        select(OutboundMessage, Conversation, StaffUser.display_name)
        .join(Conversation, Conversation.id == OutboundMessage.conversation_id)
        .outerjoin(StaffUser, StaffUser.id == OutboundMessage.staff_user_id)
        .where(OutboundMessage.status == PENDING)
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).all()
    return [
        Delivery(
            row.id,
            conversation.sender_id,
            conversation.channel,
            row.text,
            row.staff_user_id,
            name if name is not None else "Librarian",
        )
        for row, conversation, name in rows
    ]


async def retry_pending(sessions: sessionmaker[Session], rasa: RasaClient) -> dict[str, int]:
    """Try every pending row once more, in order. Returns counts by outcome."""
    with sessions.begin() as session:
        batch = pending_deliveries(session)
    counts = {SENT: 0, PENDING: 0, FAILED: 0}
    for delivery in batch:
        with sessions.begin() as session:
            won = outbox.claim(session, OUTBOX, delivery.outbound_id, clock.now())
        if not won:
            continue  # someone else is sending it
        with conversation_scope(delivery.sender_id):  # its lines name the conversation
            error = await _attempt(rasa, delivery)
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
    error = await _attempt(rasa, delivery)

    def _record() -> None:
        with sessions.begin() as session:
            record_outcome(session, delivery.outbound_id, error)

    await asyncio.to_thread(_record)
    return error
