"""Job: retention of every store, nightly.

- the reader store's transcripts older than ``RIC_RETENTION_DAYS`` (365 by default) are
  anonymised (``worker.analytics.run_retention``);
- Rasa's tracker store, the channel identities, the email thread map and outbox, the
  inbound receipts and the rotated logs are kept for their own periods
  (``RIC_RETENTION_*_DAYS``, :func:`crm_store.data_rights.apply_retention`).

APScheduler calls :func:`anonymise_old_transcripts` with no arguments; it reads the
time from :mod:`crm_store.clock`. Safe to run twice: what was removed is gone, and
anonymised rows are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crm_store import clock
from crm_store.data_rights import apply_retention
from crm_store.data_rights.tracker import existing_tracker
from crm_store.db import tracker_database_url
from ric_config import StoreConfig
from worker.analytics import AnalyticsSettings, run_retention
from worker.jobs._resources import store_sessions


def log_dir() -> Path:
    """The processes' log folder: ``$RIC_VAR_DIR/log`` (``./var/log`` by default)."""
    return Path(StoreConfig().var_dir or "var") / "log"


def anonymise_old_transcripts() -> dict[str, Any]:
    """Apply every store's retention period; returns counts and dates, no content."""
    now = clock.now()
    summary = run_retention(store_sessions(), now, AnalyticsSettings.from_env().retention_days)
    with store_sessions().begin() as session:
        tracker = existing_tracker(tracker_database_url())
        try:
            other = apply_retention(session, tracker, log_dir(), now)
        finally:
            if tracker is not None:
                tracker.dispose()
    return {**summary, "stores": other.as_dict()}
