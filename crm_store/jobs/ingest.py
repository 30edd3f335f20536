"""Job: ingest what the live path missed, from the tracker store."""

from __future__ import annotations

from crm_store.catchup import CatchUpResult, catch_up
from crm_store.jobs._resources import store_sessions, tracker_engine


def run_catch_up() -> CatchUpResult:
    """Run one catch-up pass over the tracker store."""
    return catch_up(tracker_engine(), store_sessions())
