"""The console's side of the worker: notifications, follow-ups and reader preferences.

The caller owns the session. Reader-written text (a follow-up answer) is returned as
data; the pages escape it when they show it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import Reader
from crm_store.models.operations import FollowUp, Notification
from crm_store.models.statuses import FollowUpStatus
from handoff_console.schemas import worker as schemas
from handoff_console.services.common import get_conversation, open_handoff_of
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from messaging.outreach_store import (
    preference_view,
    preferences_of,
    schedule_follow_up,
    set_preferences,
)

NOTE_LIMIT = 2000


def notification_view(row: Notification) -> dict[str, Any]:
    """One notification as JSON."""
    return schemas.Notification.view(
        **{name: getattr(row, name) for name in schemas.Notification.__fields__}
    )


def _visible_to(staff_id: int) -> Any:
    # A notification for nobody in particular (an unassigned ticket) is everyone's.
    return or_(Notification.staff_user_id == staff_id, Notification.staff_user_id.is_(None))


def list_notifications(session: Session, staff_id: int, unread_only: bool) -> dict[str, Any]:
    """The caller's notifications, newest first (at most 100), and how many are unread."""
    query = select(Notification).where(_visible_to(staff_id))
    unread = session.execute(
        select(Notification.id).where(_visible_to(staff_id), Notification.read_at.is_(None))
    ).all()
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = session.execute(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(100)
    ).scalars()
    return schemas.NotificationList.view(
        items=[notification_view(r) for r in rows], unread=len(unread)
    )


def mark_read(session: Session, staff_id: int, notification_id: int) -> dict[str, Any]:
    """Mark one of the caller's notifications read (idempotent)."""
    row = session.get(Notification, notification_id)
    if row is None or row.staff_user_id not in (None, staff_id):
        raise NotFound("not_found", "No such notification.")
    if row.read_at is None:
        row.read_at = clock.now()
    session.flush()
    return notification_view(row)


def follow_up_view(row: FollowUp) -> dict[str, Any]:
    """One follow-up as JSON, with the reader's answer once given."""
    fields = {name: getattr(row, name) for name in schemas.FollowUp.__fields__ if name != "due"}
    return schemas.FollowUp.view(**fields, due=row.due_date)


def _due(value: object, today: date) -> date:
    if not isinstance(value, str):
        raise BadRequest("bad_request", "due must be a date, YYYY-MM-DD.")
    try:
        due = date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest("bad_request", "due must be a date, YYYY-MM-DD.") from error
    if due < today:
        raise BadRequest("bad_request", "due must be today or later.")
    return due


def add_follow_up(
    session: Session, conversation_id: int, staff_id: int, body: dict[str, Any], today: date
) -> dict[str, Any]:
    """Mark a resolved conversation "follow up on <due>"; 409 while a handoff is open."""
    get_conversation(session, conversation_id)
    if open_handoff_of(session, conversation_id) is not None:
        raise Conflict("handoff_open", "Resolve the conversation before planning a follow-up.")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadRequest("bad_request", "note must be text.")
    if note is not None and len(note) > NOTE_LIMIT:
        raise BadRequest("bad_request", f"note must be at most {NOTE_LIMIT} characters.")
    row = schedule_follow_up(
        session,
        conversation_id=conversation_id,
        staff_user_id=staff_id,
        due=_due(body.get("due"), today),
        note=(note or "").strip() or None,
    )
    audit(session, staff_id, "follow_up.add", f"conversation:{conversation_id}", id=row.id)
    return follow_up_view(row)


def list_follow_ups(session: Session, conversation_id: int) -> list[dict[str, Any]]:
    """Every follow-up of a conversation, newest first."""
    get_conversation(session, conversation_id)
    rows = session.execute(
        select(FollowUp)
        .where(FollowUp.conversation_id == conversation_id)
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
    ).scalars()
    return [follow_up_view(r) for r in rows]


def cancel_follow_up(session: Session, follow_up_id: int, staff_id: int) -> dict[str, Any]:
    """Cancel a follow-up that has not been sent yet."""
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        raise NotFound("not_found", "No such follow-up.")
    if row.status != FollowUpStatus.SCHEDULED.value:
        raise Conflict("not_scheduled", "Only a follow-up not yet sent can be cancelled.")
    row.status = FollowUpStatus.CANCELLED.value
    audit(session, staff_id, "follow_up.cancel", f"follow_up:{follow_up_id}")
    session.flush()
    return follow_up_view(row)


def reader_preferences(session: Session, reader_id: int) -> dict[str, Any]:
    """A reader's reminder preferences (all off when never chosen)."""
    if session.get(Reader, reader_id) is None:
        raise NotFound("not_found", "No such reader.")
    row = preferences_of(session, reader_id)
    return schemas.Preferences.view(**preference_view(row, reader_id))


def update_reader_preferences(
    session: Session, reader_id: int, staff_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Change a reader's reminder preferences on their behalf (recorded as console consent)."""
    if session.get(Reader, reader_id) is None:
        raise NotFound("not_found", "No such reader.")
    flags: dict[str, bool | None] = {}
    for name in ("due_date_reminders", "hold_ready_notices"):
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise BadRequest("bad_request", f"{name} must be true or false.")
        flags[name] = value
    days = body.get("reminder_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise BadRequest("bad_request", "reminder_days must be a whole number.")
    try:
        row = set_preferences(
            session,
            reader_id,
            due_date_reminders=flags["due_date_reminders"],
            hold_ready_notices=flags["hold_ready_notices"],
            reminder_days=days,
            source=f"console:{staff_id}",
        )
    except ValueError as error:
        raise BadRequest("bad_request", str(error)) from error
    audit(session, staff_id, "reader.preferences", f"reader:{reader_id}")
    return schemas.Preferences.view(**preference_view(row, reader_id))
