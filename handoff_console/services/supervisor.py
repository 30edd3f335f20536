"""The supervisor view: who is online, each librarian's load, the queue's length and wait."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Handoff, HandoffStatus
from crm_store.staffing import staff_loads
from handoff_console.schemas.inbox import SupervisorLibrarian, SupervisorQueue, SupervisorView
from handoff_console.services.common import OPEN_STATUSES, now

__all__ = ["supervisor_view"]


def supervisor_view(session: Session) -> dict[str, Any]:
    """The figures a manager watches, read in one transaction."""
    handoffs = list(
        session.execute(
            select(Handoff).where(Handoff.status.in_(OPEN_STATUSES)).order_by(Handoff.requested_at)
        ).scalars()
    )
    waiting = [h for h in handoffs if h.status == HandoffStatus.WAITING]
    held: dict[int, list[int]] = {}
    for handoff in handoffs:
        if handoff.status == HandoffStatus.CLAIMED and handoff.librarian_id is not None:
            held.setdefault(handoff.librarian_id, []).append(handoff.conversation_id)
    oldest = None
    if waiting:
        oldest = max(0, int((now() - waiting[0].requested_at).total_seconds()))
    staff = [
        SupervisorLibrarian.view(
            id=user.id,
            name=user.display_name,
            role=user.role.value,
            presence=user.presence,
            last_seen_at=user.last_seen_at,
            load=load,
            capacity=user.capacity,
            conversations=held.get(user.id, []),
        )
        for user, load in staff_loads(session)
    ]
    staff.sort(key=lambda s: (s["presence"] != "online", s["name"].lower()))
    return SupervisorView.view(
        queue=SupervisorQueue.view(
            waiting=len(waiting),
            claimed=len(handoffs) - len(waiting),
            oldest_waiting_seconds=oldest,
            online=sum(1 for s in staff if s["presence"] == "online"),
        ),
        staff=staff,
    )
