"""Time the dashboard's reader intelligence and weekly report on a generated store (SQLite).

The store is ``benchmarks/nightly_analysis.py``'s generated one (same generator and
seed; "now" = 2026-11-30 03:00 UTC; 1 M messages and 100 k readers by default), with the
nightly analysis's churn list and 8 days of daily figures. The script times the
worker's reader intelligence refresh (``crm_store.reader_snapshot.refresh``, the
nightly ``reader_intelligence`` job), then calls each view the Readers and Report tabs
answer with (``handoff_console.dashboard.readers`` and ``.report``, in process, on one
session each, exactly what the API handlers run; they read the rollup) and prints p50
and p95 in milliseconds over ``--requests`` calls, plus the time to draw the weekly
report's three charts::

    .venv/bin/python -m benchmarks.dashboard_readers
    .venv/bin/python -m benchmarks.dashboard_readers --messages 100000 --readers 10000
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.nightly_analysis import NOW, generated, split_sessions
from benchmarks.store_cli import migrated_sqlite, store_parser
from benchmarks.store_load import load_sqlite
from crm_store.db import make_engine, make_session_factory
from crm_store.reader_snapshot import refresh
from crm_store.report_charts import render_charts
from crm_store.weekly_figures import last_full_week, weekly_figures
from handoff_console.dashboard import readers, report
from library.staffed_time import staffed_hours_from_profile
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings


def _views() -> dict[str, Callable[[Any], Any]]:
    week = last_full_week(NOW)
    return {
        "acquisition (12 months)": lambda s: readers.acquisition_view(s, 12, NOW),
        "first-intents (12 months)": lambda s: readers.intents_view(s, 12, NOW),
        "cohorts (12 months)": lambda s: readers.cohorts_view(s, 12, NOW),
        "churn": lambda s: readers.churn_view(s, False, 1, "json", NOW),
        "loyalty": lambda s: readers.loyalty_view(s, NOW),
        "key readers": lambda s: readers.key_readers_view(s, "key", False, 1, "json", NOW),
        "report figures": lambda s: report.report_view(s, week),
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1)}


def main(argv: list[str] | None = None) -> None:
    """Generate, load, analyse, then time every view."""
    parser = store_parser(__doc__)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    store, counts = generated(args)
    results: dict[str, Any] = {"counts": counts, "views": {}}
    with tempfile.TemporaryDirectory(prefix="ric-bench-") as workdir:
        url = migrated_sqlite(Path(workdir) / "crm.db")
        load_sqlite(Path(workdir) / "crm.db", store)
        sessions = make_session_factory(make_engine(url))
        # Churn, loyalty and key readers count channel sessions, which the bulk load
        # does not open: split as `python -m worker.jobs.rollups --resplit` would.
        print(f"channel sessions: {split_sessions(sessions)}", flush=True)
        settings = AnalyticsSettings(clustering=False)
        run_analysis(sessions, NOW, staffed_hours_from_profile(), settings)
        begun = time.perf_counter()
        with sessions.begin() as session:
            counts = refresh(session, NOW)
        results["refresh_s"] = round(time.perf_counter() - begun, 2)
        print(f"reader intelligence refresh: {results['refresh_s']} s {counts}", flush=True)
        for name, view in _views().items():
            samples = []
            for _ in range(args.requests):
                begun = time.perf_counter()
                with sessions.begin() as session:
                    view(session)
                samples.append((time.perf_counter() - begun) * 1000)
            results["views"][name] = _percentiles(samples)
            print(f"{name:28} {results['views'][name]}", flush=True)
        with sessions.begin() as session:
            figures = weekly_figures(session, last_full_week(NOW))
        begun = time.perf_counter()
        render_charts(figures)
        results["render_charts_ms"] = round((time.perf_counter() - begun) * 1000, 1)
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
