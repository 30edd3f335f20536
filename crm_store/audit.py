"""The audit log: who did what to which record.

One writer for ``audit_log`` rows, shared by the console, the worker and the store's
own reader merges, so that a job that audits does not import the console.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import AuditEntry

__all__ = ["audit"]


def audit(
    session: Session, staff_id: int | None, action: str, subject: str, **detail: object
) -> AuditEntry:
    """Record who did what to which record; the caller owns the transaction.

    Args:
        session: an open session on the reader store.
        staff_id: the staff member who acted, or None for the system (a job, Rasa).
        action: what happened, such as ``handoff.resolve`` or ``reader.merge``.
        subject: the record it happened to, such as ``conversation:12``.
        **detail: anything else worth keeping; stored as JSON (None when empty).

    Returns:
        The new entry, added to the session but not flushed.
    """
    entry: AuditEntry = AuditEntry(
        staff_user_id=staff_id,
        action=action,
        subject=subject,
        detail=detail or None,
        created_at=clock.now(),
    )
    session.add(entry)
    return entry
