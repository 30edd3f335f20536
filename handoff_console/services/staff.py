"""Librarians' presence and load, for transfers and auto-assignment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import Handoff, HandoffStatus, StaffRole, StaffUser
from handoff_console.services._common import now
from handoff_console.services.errors import BadRequest

PRESENCES = ("online", "away")


def set_presence(session: Session, staff_id: int, presence: object) -> dict[str, Any]:
    """Mark the caller online or away."""
    if presence not in PRESENCES:
        raise BadRequest("bad_presence", "presence must be online or away.")
    user = session.get(StaffUser, staff_id)
    assert user is not None
    user.presence = str(presence)
    user.last_seen_at = now()
    return {"id": user.id, "presence": user.presence}


def list_staff(session: Session) -> list[dict[str, Any]]:
    """Every active staff member with their presence, load and capacity."""
    loads = dict(
        session.execute(
            select(Handoff.librarian_id, func.count(Handoff.id))
            .where(Handoff.status == HandoffStatus.CLAIMED)
            .group_by(Handoff.librarian_id)
        )
        .all()
    )
    users = session.execute(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name)
    ).scalars()
    return [
        {
            "id": u.id,
            "display_name": u.display_name,
            "role": u.role.value,
            "presence": u.presence,
            "load": int(loads.get(u.id, 0)),
            "capacity": u.capacity,
            "department": u.department,
        }
        for u in users
    ]


def auto_assign(session: Session) -> list[tuple[int, int]]:
    """Give waiting handoffs, oldest first, to online librarians with room, round-robin.

    The next librarian is the one whose last claim is oldest, so work spreads evenly.
    Returns (handoff id, librarian id) pairs.
    """
    assigned: list[tuple[int, int]] = []
    waiting = session.execute(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.WAITING)
        .order_by(Handoff.requested_at, Handoff.id)
    ).scalars()
    for handoff in waiting:
        candidates = [
            s
            for s in list_staff(session)
            if s["presence"] == "online"
            and s["role"] in (StaffRole.LIBRARIAN.value, StaffRole.ADMIN.value)
            and s["load"] < s["capacity"]
            and (handoff.department is None or s["department"] in (None, handoff.department))
        ]
        if not candidates:
            break
        last_claim = dict(
            session.execute(
                select(Handoff.librarian_id, func.max(Handoff.claimed_at)).group_by(
                    Handoff.librarian_id
                )
            )
            .all()
        )

        def order(
            staff: dict[str, Any], last_claim: dict[Any, Any] = last_claim
        ) -> tuple[int, float, int]:
            claimed = last_claim.get(staff["id"])
            return (staff["load"], claimed.timestamp() if claimed else 0.0, staff["id"])

        candidates.sort(key=order)
        chosen = candidates[0]["id"]
        handoff.status = HandoffStatus.CLAIMED
        handoff.librarian_id = chosen
        handoff.claimed_at = now()
        session.flush()
        assigned.append((handoff.id, chosen))
    return assigned
