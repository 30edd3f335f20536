"""Anonymise transcripts older than the retention period; keep every aggregate.

What is changed, for rows older than the cut-off (``now - retention_days``):

- ``messages``: ``text`` becomes :data:`MARKER`, ``payload`` is cleared; direction,
  sender kind, intent, confidence, channel and times stay, so figures can still be
  counted.
- ``raw_events``: ``body`` becomes ``{event, timestamp, name, anonymised}``: the event
  type, its time and the action/slot/intent *name* stay; text, slot values, entities
  and metadata go.
- ``feedback.comment`` is cleared (the rating stays); ``notes.body``,
  ``outbound_messages.text``, and the notes of handoffs become the marker; closed
  tickets lose body, subject and contact.
- ``readers`` with no conversation activity since the cut-off lose display name,
  email and card number (the row and its id stay, so aggregates still join).

Nothing is deleted, and ``daily_metrics`` and the other analysis tables are untouched.
A second run finds nothing left to change (every condition excludes anonymised rows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, delete, func, null, or_, select, update
from sqlalchemy.orm import Session

from crm_store.data_rights.erase import anonymised_event_body
from crm_store.models import (
    Conversation,
    Feedback,
    Handoff,
    Message,
    Note,
    OutboundMessage,
    RawEvent,
    Reader,
    Ticket,
    TicketStatus,
)
from crm_store.models.operations import RetentionRun

logger = logging.getLogger("worker.analytics.retention")

MARKER = "[anonymised: retention period]"


@dataclass(frozen=True)
class RetentionResult:
    """What one retention pass changed.

    Attributes:
        cutoff: Rows older than this were anonymised.
        counts: Rows changed per kind.
        oldest: The oldest anonymised message's time, if any message changed.
        newest: The newest anonymised message's time, if any message changed.
    """

    cutoff: datetime
    counts: dict[str, int]
    oldest: datetime | None
    newest: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (counts and dates only, never content)."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "counts": dict(self.counts),
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
        }


def _count(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


def anonymise(session: Session, now: datetime, retention_days: int = 365) -> RetentionResult:
    """Anonymise everything older than ``retention_days`` before ``now`` (caller commits)."""
    cutoff = now - timedelta(days=retention_days)
    counts: dict[str, int] = {}

    # JSON columns store Python None as the JSON text 'null', which is not SQL NULL.
    has_payload = and_(Message.payload.is_not(None), cast(Message.payload, Text) != "null")
    message_due = and_(
        Message.sent_at < cutoff,
        or_(and_(Message.text.is_not(None), Message.text != MARKER), has_payload),
    )
    oldest, newest = session.execute(
        select(func.min(Message.sent_at), func.max(Message.sent_at)).where(message_due)
    ).one()
    counts["messages"] = _count(
        session,
        update(Message)
        .where(message_due)
        .values(
            text=case((Message.text.is_(None), None), else_=MARKER),
            payload=null(),
        ),
    )
    counts["raw_events"] = _count(
        session,
        update(RawEvent)
        .where(
            RawEvent.timestamp < cutoff.timestamp(),
            RawEvent.body["anonymised"].as_string().is_(None),
        )
        .values(body=anonymised_event_body(session)),
    )
    counts["feedback_comments"] = _count(
        session,
        update(Feedback)
        .where(Feedback.created_at < cutoff, Feedback.comment.is_not(None))
        .values(comment=None),
    )
    counts["notes"] = _count(
        session,
        update(Note).where(Note.created_at < cutoff, Note.body != MARKER).values(body=MARKER),
    )
    counts["outbound_messages"] = _count(
        session,
        update(OutboundMessage)
        .where(OutboundMessage.created_at < cutoff, OutboundMessage.text != MARKER)
        .values(text=MARKER),
    )
    counts["handoff_notes"] = _count(
        session,
        update(Handoff)
        .where(
            Handoff.requested_at < cutoff,
            or_(
                and_(Handoff.resolution_note.is_not(None), Handoff.resolution_note != MARKER),
                and_(Handoff.transfer_note.is_not(None), Handoff.transfer_note != MARKER),
            ),
        )
        .values(
            resolution_note=case((Handoff.resolution_note.is_(None), None), else_=MARKER),
            transfer_note=case((Handoff.transfer_note.is_(None), None), else_=MARKER),
        ),
    )
    counts["tickets"] = _count(
        session,
        update(Ticket)
        .where(
            Ticket.status == TicketStatus.CLOSED,
            Ticket.updated_at < cutoff,
            Ticket.body != MARKER,
        )
        .values(body=MARKER, subject=MARKER, contact=None, updated_at=Ticket.updated_at),
    )
    recent = (
        select(Conversation.id)
        .where(Conversation.reader_id == Reader.id, Conversation.last_activity_at >= cutoff)
        .exists()
    )
    counts["readers"] = _count(
        session,
        update(Reader)
        .where(
            Reader.created_at < cutoff,
            ~recent,
            or_(
                Reader.display_name.is_not(None),
                Reader.email.is_not(None),
                Reader.card_number.is_not(None),
            ),
        )
        .values(display_name=None, email=None, card_number=None),
    )
    return RetentionResult(cutoff, counts, oldest, newest)


def record_run(
    session: Session, day: date, ran_at: datetime, retention_days: int, result: RetentionResult
) -> None:
    """Store (or replace) the day's retention summary."""
    session.execute(delete(RetentionRun).where(RetentionRun.day == day))
    note = None
    if result.oldest is not None and result.newest is not None:
        note = f"messages from {result.oldest.isoformat()} to {result.newest.isoformat()}"
    session.add(
        RetentionRun(
            day=day,
            ran_at=ran_at,
            cutoff=result.cutoff,
            retention_days=retention_days,
            counts=result.counts,
            note=note,
        )
    )


def log_summary(result: RetentionResult) -> None:
    """Note in the log what was anonymised: counts and a date range, no content."""
    changed = {kind: n for kind, n in result.counts.items() if n}
    if not changed:
        logger.info("retention: nothing older than %s left to anonymise", result.cutoff.isoformat())
        return
    logger.info(
        "retention: anonymised rows older than %s: %s; messages sent %s to %s",
        result.cutoff.isoformat(),
        ", ".join(f"{kind}={n}" for kind, n in sorted(changed.items())),
        result.oldest.isoformat() if result.oldest else "-",
        result.newest.isoformat() if result.newest else "-",
    )
