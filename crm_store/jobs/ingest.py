"""Job: ingest what the live path missed, from the tracker store."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from crm_store.catchup import CatchUpResult, catch_up
from crm_store.jobs._resources import store_sessions, tracker_engine

logger = logging.getLogger(__name__)

TAIL_OVERLAP_ROWS = 20


def run_catch_up() -> CatchUpResult:
    """Run one catch-up pass over the tracker store (the safety net, every few seconds)."""
    return catch_up(tracker_engine(), store_sessions())


def tail_tracker_store(stop: threading.Event, interval_seconds: float = 0.25) -> None:
    """Ingest new tracker-store rows every ``interval_seconds`` until ``stop`` is set.

    This is how Rasa's events normally reach the reader store: the Rasa process only
    commits to its own tracker store, and this loop, in the worker process, does the
    reader-store work. A short overlap keeps each pass cheap; the periodic
    :func:`run_catch_up` re-reads a wider window.
    """
    while not stop.wait(interval_seconds):
        try:
            catch_up(tracker_engine(), store_sessions(), overlap=TAIL_OVERLAP_ROWS)
        except SQLAlchemyError:
            logger.exception("tailing the tracker store failed; retrying")
