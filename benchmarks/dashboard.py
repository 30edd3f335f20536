"""Time the manager dashboard's API on 1 M messages and 100 k readers (SQLite or PostgreSQL).

The store is ``benchmarks/nightly_analysis.py``'s generated one (same generator, same
seed, "now" = 2026-11-30 03:00 UTC, 400 days of conversations). The script then

1. splits every conversation into channel sessions (``crm_store.sessions.resplit_all``,
   what ``python -m worker.jobs.rollups --resplit`` does) and builds the rollups of
   every day (``worker.jobs.rollups.rebuild``), timing both;
2. calls the read models in-process (overview, heatmap, workload, drill-down; no HTTP)
   for the last 30, 90 and 365 days, printing p50 and p95;
3. starts the real console (``python -m handoff_console``) on the store and, with a
   manager's bearer token, requests every dashboard endpoint ``--requests`` times
   for each period (the last 30, 90 and 365 days before "now", and 30 days on one
   channel), printing p50 and p95 per endpoint in milliseconds, measured at the
   client over HTTP on loopback.

::

    .venv/bin/python -m benchmarks.dashboard                       # SQLite, 1 M messages
    .venv/bin/python -m benchmarks.dashboard --backend postgresql
    .venv/bin/python -m benchmarks.dashboard --messages 100000 --readers 10000
    .venv/bin/python -m benchmarks.dashboard --workdir /tmp/dash --reuse   # keep, re-time
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.nightly_analysis import NOW, generate
from benchmarks.store_load import create_pg_database, drop_pg_database, load_postgres, load_sqlite
from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.models.dashboard import ConversationSession, DashboardRollup
from handoff_console.accounts import create_staff, issue_api_token
from handoff_console.dashboard.charts import chart
from handoff_console.dashboard.drill import drill
from handoff_console.dashboard.filters import Filters, filter_options
from handoff_console.dashboard.overview import overview
from library.profile import library_zone
from library.staffed_time import staffed_hours_from_profile
from worker.jobs.rollups import rebuild

CHARTS = ("heatmap", "volume", "channels", "intents", "faq", "trends", "handoff-reasons",
          "workload", "clusters")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def console(url: str, workdir: Path) -> Iterator[str]:
    """The real console on ``url``'s store; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "RIC_DATABASE_URL": url,
        "RIC_CONSOLE_PORT": str(port),
        "RIC_BIND_HOST": "127.0.0.1",
        "RIC_RASA_URL": f"http://127.0.0.1:{_free_port()}",
    }
    log = (workdir / "console.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "handoff_console"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the console did not start; see {log.name}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _get(base: str, path: str, token: str) -> float:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        base + path, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"{path}: HTTP {reply.status}")
    return (time.perf_counter() - started) * 1000


def _periods(last: date) -> dict[str, str]:
    def days(n: int) -> str:
        return f"from={(last - timedelta(days=n - 1)).isoformat()}&to={last.isoformat()}"

    return {
        "30 days": days(30),
        "90 days": days(90),
        "365 days": days(365),
        "30 days, telegram": days(30) + "&channel=telegram",
    }


def time_endpoints(base: str, token: str, requests: int) -> list[dict[str, Any]]:
    """p50/p95 in ms of every endpoint and period; one warm-up request each."""
    paths = ["/api/dashboard/overview"]
    paths += [f"/api/dashboard/charts/{name}" for name in CHARTS]
    paths += ["/api/dashboard/drill?weekday=1&hour=10", "/api/dashboard/drill?figure=handoff"]
    results = []
    last = NOW.astimezone(library_zone()).date() - timedelta(days=1)
    for label, period in _periods(last).items():
        for path in paths:
            url = f"{path}{'&' if '?' in path else '?'}{period}"
            _get(base, url, token)
            samples = sorted(_get(base, url, token) for _ in range(requests))
            row = {
                "period": label,
                "endpoint": path,
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
                "max_ms": round(samples[-1], 1),
            }
            print(
                f"  {label:<18} {path:<42} p50 {row['p50_ms']:7.1f} ms"
                f"   p95 {row['p95_ms']:7.1f} ms",
                flush=True,
            )
            results.append(row)
    return results


def time_views(url: str, repeats: int) -> list[dict[str, Any]]:
    """The same work without HTTP: the read models called in this process, p50/p95 in ms."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    zone = library_zone()
    last = NOW.astimezone(zone).date() - timedelta(days=1)
    results = []
    try:
        for days in (30, 90, 365):
            filters = Filters(last - timedelta(days=days - 1), last)
            work = {
                "overview": lambda s, f=filters: overview(s, f, zone, filter_options),
                "heatmap": lambda s, f=filters: chart(s, "heatmap", f),
                "workload": lambda s, f=filters: chart(s, "workload", f),
                "drill (handoff)": lambda s, f=filters: drill(s, f, {"figure": "handoff"}),
            }
            for name, call in work.items():
                samples = []
                with sessions() as session:
                    call(session)
                    for _ in range(repeats):
                        started = time.perf_counter()
                        call(session)
                        samples.append((time.perf_counter() - started) * 1000)
                samples.sort()
                row = {
                    "period": f"{days} days",
                    "view": name,
                    "p50_ms": round(statistics.median(samples), 1),
                    "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
                }
                print(
                    f"  in-process {row['period']:<9} {name:<16} p50 {row['p50_ms']:7.1f} ms"
                    f"   p95 {row['p95_ms']:7.1f} ms",
                    flush=True,
                )
                results.append(row)
    finally:
        engine.dispose()
    return results


def _add_new_indexes(url: str) -> None:
    """Create the dashboard indexes a kept store, migrated before they existed, lacks."""
    engine = make_engine(url)
    try:
        for table in (ConversationSession.__table__, DashboardRollup.__table__):
            for index in table.indexes:
                index.create(engine, checkfirst=True)
    finally:
        engine.dispose()


def bench(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Generate and load the store, build the rollups, time the endpoints."""
    kept = workdir / "dashboard.db"
    if backend == "sqlite" and args.reuse and kept.exists():
        print(f"[sqlite] reusing {kept} (store, sessions and rollups as built before)")
        url = f"sqlite:///{kept}"
        upgrade(url)
        _add_new_indexes(url)
        return _time_store(url, args, workdir, {"backend": backend, "reused": str(kept)})
    kept.unlink(missing_ok=True)
    started = time.perf_counter()
    store = generate(args.messages, args.readers, args.span_days, args.seed)
    counts = {table: len(rows) for table, rows in store.rows.items()}
    print(f"[{backend}] generated in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'dashboard.db'}"
        upgrade(url)
        load_sqlite(workdir / "dashboard.db", store)
    else:
        url = create_pg_database()
        upgrade(url)
        engine = make_engine(url)
        load_postgres(engine, store)
        engine.dispose()
    del store
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    figures: dict[str, Any] = {"backend": backend, "counts": counts}
    try:
        started = time.perf_counter()
        built = rebuild(sessions, NOW, library_zone(), staffed_hours_from_profile())
        figures["resplit_and_rollups_s"] = round(time.perf_counter() - started, 1)
        figures["rebuild"] = built
        print(f"  sessions and rollups built in {figures['resplit_and_rollups_s']} s: {built}")
    finally:
        engine.dispose()
    try:
        return _time_store(url, args, workdir, figures)
    finally:
        if backend == "postgresql":
            drop_pg_database()


def _time_store(
    url: str, args: argparse.Namespace, workdir: Path, figures: dict[str, Any]
) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            user = create_staff(
                session,
                username=f"bench-manager-{secrets.token_hex(4)}",
                password=secrets.token_urlsafe(24),
                role="manager",
                display_name="Bench Manager",
            )
            token = issue_api_token(session, user.id, "dashboard benchmark")
    finally:
        engine.dispose()
    figures["views"] = time_views(url, args.requests)
    with console(url, workdir) as base:
        figures["endpoints"] = time_endpoints(base, token, args.requests)
    p95 = [row["p95_ms"] for row in figures["endpoints"]]
    figures["worst_p95_ms"] = max(p95)
    print(f"  worst p95 over every endpoint and period: {max(p95):.1f} ms", flush=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    """Benchmark each backend in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--span-days", type=int, default=400)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per endpoint")
    parser.add_argument(
        "--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"]
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the SQLite store here (default: a tmp dir)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="time the store kept in --workdir, if there is one"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = []
    with tempfile.TemporaryDirectory(prefix="ric-dashboard-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for backend in args.backend:
            results.append(bench(backend, args, workdir))
    summary = [{k: v for k, v in r.items() if k != "endpoints"} for r in results]
    print("\n" + json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
