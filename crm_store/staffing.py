"""Librarians' load, and the round-robin that gives waiting handoffs to those with room.

The console shows the load (``handoff_console.services.staff``); the worker's
``auto_assign_waiting`` job and the console both assign through :func:`auto_assign`.
The caller owns the session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import Handoff, HandoffStatus, StaffRole, StaffUser

__all__ = ["ASSIGNABLE_ROLES", "auto_assign", "staff_loads"]

ASSIGNABLE_ROLES = (StaffRole.LIBRARIAN, StaffRole.ADMIN)
"""Who may be given a handoff."""


def staff_loads(session: Session) -> list[tuple[StaffUser, int]]:
    """Every active staff member, by display name, with the handoffs they hold now."""
    loads = dict(
        session.execute(
            select(Handoff.librarian_id, func.count(Handoff.id))
            .where(Handoff.status == HandoffStatus.CLAIMED)
            .group_by(Handoff.librarian_id)
        ).all()
    )
    users = session.execute(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.display_name)
    ).scalars()
    return [(user, int(loads.get(user.id, 0))) for user in users]


def _last_claims(session: Session) -> dict[int, datetime]:
    rows = session.execute(
        select(Handoff.librarian_id, func.max(Handoff.claimed_at)).group_by(Handoff.librarian_id)
    ).all()
    return {int(librarian): claimed for librarian, claimed in rows if librarian is not None}


def auto_assign(session: Session) -> list[tuple[int, int]]:
    """Give waiting handoffs, oldest first, to online librarians with room, round-robin.

    The next librarian is the one with the lowest load, then whose last claim is
    oldest, so work spreads evenly. Returns (handoff id, librarian id) pairs.
    """
    assigned: list[tuple[int, int]] = []
    waiting = session.execute(
        select(Handoff)
        .where(Handoff.status == HandoffStatus.WAITING)
        .order_by(Handoff.requested_at, Handoff.id)
    ).scalars()
    for handoff in waiting:
        candidates = [
            (load, user)
            for user, load in staff_loads(session)
            if user.presence == "online"
            and user.role in ASSIGNABLE_ROLES
            and load < user.capacity
            and (handoff.department is None or user.department in (None, handoff.department))
        ]
        if not candidates:
            break
        last_claim = _last_claims(session)

        def order(
            candidate: tuple[int, StaffUser], last_claim: dict[int, datetime] = last_claim
        ) -> tuple[int, float, int]:
            load, user = candidate
            claimed = last_claim.get(user.id)
            return (load, claimed.timestamp() if claimed else 0.0, int(user.id))

        chosen = int(min(candidates, key=order)[1].id)
        handoff.status = HandoffStatus.CLAIMED
        handoff.librarian_id = chosen
        handoff.claimed_at = clock.now()
        session.flush()
        assigned.append((int(handoff.id), chosen))
    return assigned
