"""Job: refresh the dashboard's reader intelligence rollup (issue 17).

Runs nightly at 05:00 library time, after the nightly analysis (02:00) has stored the
churn list it scores and before the weekly report (06:00) reads it. It recomputes
``reader_values`` and ``reader_snapshots`` as of now in one transaction
(:func:`crm_store.reader_snapshot.refresh`), so the dashboard's Readers tab and the
weekly report read stored figures instead of scanning every conversation per request.
Safe to run twice: each run replaces the rows.
"""

from __future__ import annotations

import logging

from crm_store import clock
from crm_store.reader_snapshot import refresh_from_settings
from worker.jobs._resources import store_sessions

__all__ = ["refresh_reader_intelligence"]

logger = logging.getLogger(__name__)


def refresh_reader_intelligence() -> dict[str, int]:
    """Recompute the reader intelligence rollup as of now; returns the row counts."""
    with store_sessions().begin() as session:
        counts = refresh_from_settings(session, clock.now())
    logger.info("reader intelligence refreshed: %s", counts)
    return counts
