"""Librarians' presence and load, as the console shows them.

Auto-assignment lives in the store (`crm_store.staffing.auto_assign`), where the
worker's job and the console both reach it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm_store.models import StaffUser
from crm_store.staffing import staff_loads
from handoff_console.schemas.desk import Presence, Staff
from handoff_console.services.common import now
from handoff_console.services.errors import BadRequest

__all__ = ["PRESENCES", "list_staff", "set_presence"]

PRESENCES = ("online", "away")


def set_presence(session: Session, staff_id: int, presence: object) -> dict[str, Any]:
    """Mark the caller online or away."""
    if presence not in PRESENCES:
        raise BadRequest("bad_presence", "presence must be online or away.")
    user = session.get(StaffUser, staff_id)
    assert user is not None
    user.presence = str(presence)
    user.last_seen_at = now()
    return Presence.view(id=user.id, presence=user.presence)


def list_staff(session: Session) -> list[dict[str, Any]]:
    """Every active staff member with their presence, load and capacity."""
    return [
        Staff.view(
            id=u.id,
            display_name=u.display_name,
            role=u.role.value,
            presence=u.presence,
            load=load,
            capacity=u.capacity,
            department=u.department,
        )
        for u, load in staff_loads(session)
    ]
