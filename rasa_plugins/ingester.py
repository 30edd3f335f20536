"""A background writer that batches events into the reader store.

Rasa's request path only enqueues (a few microseconds); this thread writes
batches in one transaction each. If the process dies with events still queued,
the catch-up step (:mod:`crm_store.catchup`) restores them from the tracker store.
An event that cannot be ingested is quarantined and skipped
(:func:`crm_store.ingestion.ingest_or_quarantine`); nothing stops the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest_or_quarantine

logger = logging.getLogger(__name__)

_STOP = object()


class BackgroundIngester:
    """Owns a daemon thread that ingests queued events in batches.

    Args:
        session_factory: opens sessions on the reader store.
        max_batch: the most events written in one transaction.
        linger_seconds: how long to wait for more events before writing a batch.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        max_batch: int = 500,
        linger_seconds: float = 0.05,
    ) -> None:
        self._session_factory = session_factory
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="crm-ingester", daemon=True)
        self._thread.start()

    def submit(self, events: Iterable[RasaEvent]) -> None:
        """Queue events for ingestion; never blocks and never raises."""
        for event in events:
            self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written. Returns False on timeout."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[RasaEvent] = []
            waiters: list[threading.Event] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                elif isinstance(item, RasaEvent):
                    batch.append(item)
                if stopping or len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get(timeout=self._linger if batch else 0.001)
                except queue.Empty:
                    break
            self._write(batch)
            for waiter in waiters:
                waiter.set()

    def _write(self, batch: list[RasaEvent]) -> None:
        if not batch:
            return
        try:
            ingest_or_quarantine(self._session_factory, batch, source="live")
        except SQLAlchemyError:
            # Not fatal and not lost: the events are in the tracker store, and the
            # worker's catch-up ingests them on its next pass.
            logger.exception("could not write %d events to the reader store", len(batch))
        except Exception:
            # A defect, not a bad event (those are quarantined). The thread must live
            # on, and catch-up still has the events.
            logger.exception("unexpected error writing %d events; left to catch-up", len(batch))
