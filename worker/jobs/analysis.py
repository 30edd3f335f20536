"""Job: the nightly satisfaction analysis (daily figures, churn, loyalty, clusters).

APScheduler calls :func:`nightly_analysis` with no arguments; it reads the time from
:mod:`crm_store.clock`, so tests can travel in time. Safe to run twice: the day's
rows are replaced.
"""

from __future__ import annotations

from typing import Any

from crm_store import clock
from library.staffed_time import staffed_hours_from_profile
from worker.analytics import AnalyticsSettings, run_analysis
from worker.jobs._resources import store_sessions


def nightly_analysis() -> dict[str, Any]:
    """Analyse the reader store as of now; returns the run's summary."""
    return run_analysis(
        store_sessions(), clock.now(), staffed_hours_from_profile(), AnalyticsSettings.from_env()
    )
