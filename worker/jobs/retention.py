"""Job: anonymise transcripts older than ``RIC_RETENTION_DAYS`` (365 by default).

APScheduler calls :func:`anonymise_old_transcripts` with no arguments; it reads the
time from :mod:`crm_store.clock`. Safe to run twice: anonymised rows are skipped.
"""

from __future__ import annotations

from typing import Any

from crm_store import clock
from worker.analytics import AnalyticsSettings, run_retention
from worker.jobs._resources import store_sessions


def anonymise_old_transcripts() -> dict[str, Any]:
    """Anonymise what is past the retention period; returns counts and dates, no content."""
    return run_retention(store_sessions(), clock.now(), AnalyticsSettings.from_env().retention_days)
