"""Reader-store operations used by actions, the console and the worker.

The caller owns the session and the transaction (``with sessions.begin() as session``).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.clock import now as _now
from crm_store.conversations import (
    conversation_of,
    ensure_conversation,
    set_conversation_status,
)
from crm_store.identities import absorb_previous
from crm_store.models import (
    ChannelIdentity,
    ConversationStatus,
    Feedback,
    Handoff,
    HandoffStatus,
    Reader,
    Ticket,
    TicketStatus,
)
from crm_store.redaction import mask_cards_in_text

__all__ = [
    "SUBJECT_CHARS",
    "conversation_of",
    "create_ticket",
    "link_verified_reader",
    "open_handoff",
    "record_feedback",
    "subject_from",
]


def link_verified_reader(
    session: Session,
    *,
    channel: str,
    external_id: str,
    card_number: str,
    name: str,
    email: str | None,
) -> Reader:
    """Attach a channel identity to the reader who owns ``card_number``.

    The reader record is found by card number (or created), marked verified, and the
    identity and its conversation move to it. Verifying the same card on two channels
    therefore yields one reader with two identities.

    The identity's previous reader is settled by `crm_store.identities.absorb_previous`:
    an anonymous one is folded in completely (its other identities, conversations,
    tickets and feedback move too); one verified with another card keeps the rest.
    """
    now = _now()
    reader: Reader | None = session.execute(
        select(Reader).where(Reader.card_number == card_number)
    ).scalar_one_or_none()
    if reader is None:
        reader = Reader(card_number=card_number, created_at=now)
        session.add(reader)
    reader.display_name = name
    reader.email = reader.email or email
    reader.verified_at = now
    session.flush()
    identity = session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    ).scalar_one_or_none()
    previous_id = identity.reader_id if identity is not None else None
    if identity is None:
        identity = ChannelIdentity(channel=channel, external_id=external_id, reader_id=reader.id)
        session.add(identity)
    identity.reader_id = reader.id
    identity.last_seen_at = now
    conversation = ensure_conversation(session, external_id, channel, now)
    previous_id = previous_id or conversation.reader_id
    conversation.reader_id = reader.id
    session.flush()
    absorb_previous(session, reader, previous_id, channel, external_id)
    return reader


def open_handoff(
    session: Session, *, sender_id: str, channel: str, reason: str
) -> tuple[Handoff, int]:
    """Record that a conversation waits for a librarian.

    Returns:
        The handoff, and its position in the queue (1 = next).
    """
    now = _now()
    conversation = ensure_conversation(session, sender_id, channel, now)
    handoff = session.execute(
        select(Handoff).where(
            Handoff.conversation_id == conversation.id,
            Handoff.status.in_([HandoffStatus.WAITING, HandoffStatus.CLAIMED]),
        )
    ).scalar_one_or_none()
    if handoff is None:
        handoff = Handoff(conversation_id=conversation.id, reason=reason, requested_at=now)
        session.add(handoff)
    set_conversation_status(conversation, ConversationStatus.HANDOFF, now)
    session.flush()
    ahead = session.execute(
        select(func.count(Handoff.id)).where(
            Handoff.status == HandoffStatus.WAITING, Handoff.requested_at < handoff.requested_at
        )
    ).scalar_one()
    return handoff, int(ahead) + 1


SUBJECT_CHARS = 80
"""How long a ticket subject made from a reader's words may be, before the ellipsis."""


def subject_from(text: str | None, limit: int = SUBJECT_CHARS) -> str | None:
    """A ticket subject from what a reader wrote: the first non-empty line, cut at a word.

    Card numbers in it are masked (``**********3456``), since staff read subjects in
    lists. None when ``text`` has no words.
    """
    masked = mask_cards_in_text(text or "")
    line = next((ln.strip() for ln in masked.splitlines() if ln.strip()), "")
    if not line:
        return None
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def create_ticket(
    session: Session,
    *,
    sender_id: str,
    channel: str,
    subject: str,
    body: str,
    contact: str | None,
) -> Ticket:
    """Leave a message for staff, linked to the conversation and its reader."""
    conversation = ensure_conversation(session, sender_id, channel, _now())
    ticket: Ticket = Ticket(
        conversation_id=conversation.id,
        reader_id=conversation.reader_id,
        subject=subject[:200],
        body=body,
        contact=contact,
        status=TicketStatus.NEW,
    )
    session.add(ticket)
    session.flush()
    return ticket


def record_feedback(
    session: Session, *, sender_id: str, channel: str, rating: int, comment: str | None
) -> Feedback:
    """Store a reader's rating and comment, linked to the conversation's librarian if any."""
    if not 1 <= rating <= 5:
        raise ValueError(f"rating must be 1 to 5, got {rating}")
    conversation = ensure_conversation(session, sender_id, channel, _now())
    librarian_id = session.execute(
        select(Handoff.librarian_id)
        .where(Handoff.conversation_id == conversation.id, Handoff.librarian_id.is_not(None))
        .order_by(Handoff.requested_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    feedback: Feedback = Feedback(
        conversation_id=conversation.id,
        reader_id=conversation.reader_id,
        librarian_id=librarian_id,
        rating=rating,
        comment=comment or None,
    )
    session.add(feedback)
    session.flush()
    return feedback
