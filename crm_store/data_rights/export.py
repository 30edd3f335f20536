"""Right of access: everything the service holds about one reader, as one JSON document.

:func:`export_reader` gathers, for one reader: the profile, the channel identities,
every conversation with its messages, handoffs, staff notes and Rasa tracker events,
the tickets, surveys and ratings, the consents (reminder preferences), follow-ups,
reminders sent, the email thread map and outbox, the nightly question clusters' copies
of the reader's words (examples of unanswered questions), and the audit entries about
the reader. Each export is audited (``reader.export``, with who asked and how many
records went out, never the content).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.data_rights.clusters import cluster_copies
from crm_store.data_rights.tracker import read_events
from crm_store.identities.rows import _plain
from crm_store.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    Direction,
    EmailOutboxEntry,
    Feedback,
    Handoff,
    Message,
    Note,
    OutboundMessage,
    Reader,
    Ticket,
)
from crm_store.models.operations import (
    EmailMessage,
    FollowUp,
    ReaderPreference,
    SentReminder,
    Survey,
)
from crm_store.redaction import mask_card_slot

__all__ = ["EXPORT_FORMAT", "export_reader", "row_dict"]

EXPORT_FORMAT = "ric-reader-export/1"


def row_dict(row: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A mapped row's columns as JSON-friendly values (times in ISO 8601)."""
    left_out = set(skip)
    return {
        column.key: _plain(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in left_out
    }


def _rows(session: Session, statement: Any, skip: Iterable[str] = ()) -> list[dict[str, Any]]:
    return [row_dict(row, skip) for row in session.execute(statement).scalars()]


def export_reader(
    session: Session,
    reader: Reader,
    tracker: Engine | None,
    *,
    staff_id: int | None,
    via: str,
) -> dict[str, Any]:
    """Everything held about ``reader``, and an audit entry saying it was exported.

    Args:
        session: An open session on the reader store; the caller commits (the audit).
        reader: The reader (:func:`crm_store.data_rights.find_reader`).
        tracker: An engine on Rasa's tracker store; None leaves the tracker events out.
        staff_id: The staff member who asked, or None (``./ric reader export``).
        via: Where the request came from, such as ``cli`` or ``console``.

    Returns:
        The export document (JSON-serialisable).
    """
    conversations = list(
        session.execute(
            select(Conversation)
            .where(Conversation.reader_id == reader.id)
            .order_by(Conversation.id)
        ).scalars()
    )
    ids = [c.id for c in conversations]
    senders = [str(c.sender_id) for c in conversations]
    events = read_events(tracker, senders)
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": clock.now().isoformat(),
        "reader": row_dict(reader),
        "identities": _rows(
            session,
            select(ChannelIdentity)
            .where(ChannelIdentity.reader_id == reader.id)
            .order_by(ChannelIdentity.id),
        ),
        "conversations": [
            _conversation(session, conversation, events.get(str(conversation.sender_id), []))
            for conversation in conversations
        ],
        "tickets": _rows(
            session,
            select(Ticket)
            .where(or_(Ticket.reader_id == reader.id, Ticket.conversation_id.in_(ids)))
            .order_by(Ticket.id),
        ),
        "surveys": _rows(
            session, select(Survey).where(Survey.conversation_id.in_(ids)).order_by(Survey.id)
        ),
        "ratings": _rows(
            session,
            select(Feedback)
            .where(or_(Feedback.reader_id == reader.id, Feedback.conversation_id.in_(ids)))
            .order_by(Feedback.id),
        ),
        "consents": _rows(
            session, select(ReaderPreference).where(ReaderPreference.reader_id == reader.id)
        ),
        "follow_ups": _rows(
            session,
            select(FollowUp).where(FollowUp.conversation_id.in_(ids)).order_by(FollowUp.id),
        ),
        "reminders": _rows(
            session,
            select(SentReminder)
            .where(SentReminder.reader_id == reader.id)
            .order_by(SentReminder.id),
        ),
        "email_threads": _rows(
            session,
            select(EmailMessage)
            .where(EmailMessage.sender_id.in_(senders))
            .order_by(EmailMessage.id),
        ),
        "email_outbox": _rows(
            session,
            select(EmailOutboxEntry)
            .where(EmailOutboxEntry.sender_id.in_(senders))
            .order_by(EmailOutboxEntry.id),
            skip=("mail",),
        ),
        "question_clusters": cluster_copies(
            session,
            session.execute(
                select(Message.text).where(
                    Message.conversation_id.in_(ids), Message.direction == Direction.INBOUND
                )
            ).scalars(),
        ),
        "audit": _rows(
            session,
            select(AuditEntry)
            .where(AuditEntry.subject == f"reader:{reader.id}")
            .order_by(AuditEntry.id),
        ),
    }
    audit(
        session,
        staff_id,
        "reader.export",
        f"reader:{reader.id}",
        via=via,
        conversations=len(conversations),
        tracker_events=sum(len(found) for found in events.values()),
    )
    return document


def _conversation(
    session: Session, conversation: Conversation, tracker_events: list[Any]
) -> dict[str, Any]:
    where = conversation.id
    return {
        **row_dict(conversation),
        "messages": _rows(
            session, select(Message).where(Message.conversation_id == where).order_by(Message.id)
        ),
        "handoffs": _rows(
            session, select(Handoff).where(Handoff.conversation_id == where).order_by(Handoff.id)
        ),
        "staff_notes": _rows(
            session, select(Note).where(Note.conversation_id == where).order_by(Note.id)
        ),
        "librarian_messages": _rows(
            session,
            select(OutboundMessage)
            .where(OutboundMessage.conversation_id == where)
            .order_by(OutboundMessage.id),
        ),
        # The card_number slot holds the card sealed (crm_store.card_seal); the reader
        # gets it masked, as everywhere else, never the ciphertext.
        "tracker_events": [
            mask_card_slot(event) if isinstance(event, dict) else event for event in tracker_events
        ],
    }
