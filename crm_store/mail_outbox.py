"""The email outbox's rows: queueing a mail, finding the ones due, reporting failures.

Every mail the email channel sends is a row of ``email_outbox`` before it leaves
(:func:`queue_mail`); the channel then claims and sends it with
``messaging.outbox`` (:data:`MAIL_STATUSES`), and retries a failure with backoff until
the SMTP server accepts it (``sent``) or it is past ``expires_at`` (``expired``).
The console reads :func:`undelivered` for a conversation and :func:`delivery_counts`
for ``/status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from crm_store.models import EmailOutboxEntry

__all__ = [
    "EXPIRED",
    "PENDING",
    "SENDING",
    "SENT",
    "DeliveryCounts",
    "Undelivered",
    "delivery_counts",
    "due_ids",
    "queue_mail",
    "undelivered",
]

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
EXPIRED = "expired"


def queue_mail(
    session: Session,
    *,
    message_id: str,
    sender_id: str,
    to: str,
    mail: str,
    now: datetime,
    expires_at: datetime,
) -> EmailOutboxEntry:
    """Keep one mail in the outbox, due at once (the caller commits)."""
    row: EmailOutboxEntry = EmailOutboxEntry(
        message_id=message_id,
        sender_id=sender_id,
        to_address=to,
        mail=mail,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def due_ids(session: Session, now: datetime, stale_before: datetime, limit: int = 50) -> list[int]:
    """Mails due a try at ``now``, oldest first: pending and due, or ``sending`` since
    before ``stale_before`` (their sender died mid-attempt)."""
    due = or_(
        and_(EmailOutboxEntry.status == PENDING, EmailOutboxEntry.next_attempt_at <= now),
        and_(EmailOutboxEntry.status == SENDING, EmailOutboxEntry.claimed_at < stale_before),
    )
    return list(
        session.execute(
            select(EmailOutboxEntry.id).where(due).order_by(EmailOutboxEntry.id).limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class Undelivered:
    """A mail of a conversation that has not reached the reader (yet)."""

    message_id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    expires_at: datetime
    created_at: datetime

    @property
    def retrying(self) -> bool:
        """Whether it will be tried again (not given up)."""
        return self.status != EXPIRED


def undelivered(session: Session, sender_ids: Sequence[str]) -> list[Undelivered]:
    """The mails of these conversations that failed at least once and are not sent."""
    if not sender_ids:
        return []
    rows = session.execute(
        select(EmailOutboxEntry)
        .where(
            EmailOutboxEntry.sender_id.in_(list(sender_ids)),
            or_(
                EmailOutboxEntry.status == EXPIRED,
                and_(EmailOutboxEntry.status != SENT, EmailOutboxEntry.attempts > 0),
            ),
        )
        .order_by(EmailOutboxEntry.id)
    ).scalars()
    return [
        Undelivered(
            message_id=str(row.message_id),
            status=str(row.status),
            attempts=int(row.attempts),
            last_error=row.last_error,
            next_attempt_at=None if row.status == EXPIRED else row.next_attempt_at,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DeliveryCounts:
    """Mails the SMTP server has not accepted: still retrying, and given up."""

    retrying: int
    expired: int


def delivery_counts(session: Session) -> DeliveryCounts:
    """How many mails are being retried after a failure, and how many expired."""
    retrying, expired = session.execute(
        select(
            func.count().filter(
                and_(EmailOutboxEntry.status != SENT, EmailOutboxEntry.status != EXPIRED),
                EmailOutboxEntry.attempts > 0,
            ),
            func.count().filter(EmailOutboxEntry.status == EXPIRED),
        )
    ).one()
    return DeliveryCounts(int(retrying or 0), int(expired or 0))
