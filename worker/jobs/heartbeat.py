"""Job: tell the console the worker is alive."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from crm_store.models import ServiceHeartbeat
from worker.jobs._resources import store_sessions


def beat(name: str = "worker") -> None:
    """Record that this process is alive now."""
    with store_sessions().begin() as session:
        row = session.get(ServiceHeartbeat, name)
        now = datetime.now(timezone.utc)
        detail = {"pid": os.getpid()}
        if row is None:
            session.add(ServiceHeartbeat(name=name, beat_at=now, detail=detail))
        else:
            row.beat_at = now
            row.detail = detail
