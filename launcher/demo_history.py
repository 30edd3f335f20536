"""The demo history of ``./ric up``: seed it once, then compute what the dashboard shows.

:func:`seed_and_refresh` writes :func:`crm_store.demo_history.seed_history` into an
empty reader store and runs, right away, what the worker would compute over the next
nights: the dashboard's rollups of every day with chats, the nightly analysis of those
days (satisfaction figures, churn and loyalty; no question clustering, which needs the
sentence encoder) and the reader intelligence rollup. Turned off with
``RIC_DEMO_HISTORY=0``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_store.demo_history import DemoHistory, seed_history
from crm_store.reader_snapshot import refresh_from_settings
from library.profile import library_zone
from library.staffed_time import staffed_hours_from_profile
from worker.analytics import AnalyticsSettings, run_analysis
from worker.jobs.rollups import rebuild

__all__ = ["DEMO_DAYS", "seed_and_refresh"]

DEMO_DAYS = 90
"""How many days of chats the demo history spans."""


def seed_and_refresh(
    sessions: sessionmaker[Session], now: datetime, days: int = DEMO_DAYS
) -> tuple[DemoHistory, dict[str, Any]]:
    """Seed the demo history (if the store has no conversation) and refresh the figures.

    Returns:
        What was seeded, and the refreshes' counts (empty when nothing was seeded).
    """
    zone = library_zone()
    with sessions.begin() as session:
        history = seed_history(session, now, zone, days)
    if history.skipped is not None:
        return history, {}
    hours = staffed_hours_from_profile()
    rollups = rebuild(sessions, now, zone, hours, resplit_first=False)
    settings = dataclasses.replace(
        AnalyticsSettings.from_env(), recompute_days=days + 1, clustering=False
    )
    analysis = run_analysis(sessions, now, hours, settings)
    with sessions.begin() as session:
        readers = refresh_from_settings(session, now)
    return history, {
        "rollup_rows": rollups["rollup_rows"],
        "analysis_days": len(analysis.get("days") or ()),
        "reader_rows": readers,
    }
