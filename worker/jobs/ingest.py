"""Job: ingest what the live path missed, from the tracker store."""

from __future__ import annotations

import logging
import threading

from crm_store.catchup import CatchUpResult, catch_up, newest_event_id
from worker.jobs._resources import store_sessions, tracker_engine

logger = logging.getLogger(__name__)

TAIL_OVERLAP_ROWS = 20


def run_catch_up() -> CatchUpResult:
    """Run one catch-up pass over the tracker store (the safety net, every few seconds)."""
    return catch_up(tracker_engine(), store_sessions())


TAIL_INTERVAL_SECONDS = 0.1


def tail_tracker_store(
    stop: threading.Event, interval_seconds: float = TAIL_INTERVAL_SECONDS
) -> None:
    """Ingest new tracker-store rows every ``interval_seconds`` until ``stop`` is set.

    This is how Rasa's events normally reach the reader store: the Rasa process only
    commits to its own tracker store, and this loop, in the worker process, does the
    reader-store work. A pass whose newest tracker row id has not moved costs one
    ``max(id)`` query and ingests nothing; otherwise a short overlap keeps it cheap.
    The periodic :func:`run_catch_up` re-reads a wider window (PostgreSQL row ids can
    become visible out of order).
    """
    ingested_up_to: int | None = None
    failing: str | None = None
    while not stop.wait(interval_seconds):
        try:
            newest = newest_event_id(tracker_engine())
            if newest is None or newest == ingested_up_to:
                continue
            catch_up(tracker_engine(), store_sessions(), overlap=TAIL_OVERLAP_ROWS)
            ingested_up_to = newest
        except Exception as error:
            # An event that cannot be ingested never gets here (it is quarantined); this
            # is the database being unavailable, or a defect. Either way the loop must
            # keep running, and it says so once per distinct error, not ten times a second.
            described = f"{type(error).__name__}: {error}"
            if described != failing:
                logger.exception("tailing the tracker store failed; retrying")
                failing = described
            continue
        if failing is not None:
            logger.info("tailing the tracker store works again")
            failing = None
