"""The heatmap and the overview's medians from the daily rollups equal a direct count.

Since migration 0012 the heatmap sums the daily rollups' hour counts and the overview's
medians parse their lists of handed-off seconds, instead of reading the hourly rollups
and the sessions. On a generated store (the benchmarks' generator, three weeks, about
500 conversations and 70 handoffs, rolled up in a zone with a UTC offset), these tests
recompute both straight from the sessions' stored facts, filter by filter, on SQLite and
PostgreSQL; and check that the migration's backfill of older rows
(:func:`crm_store.rollups.fill_daily_extras`) writes what a refresh writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.nightly_analysis import NOW, generate
from benchmarks.store_load import load_postgres, load_sqlite
from crm_store.migrate import upgrade
from crm_store.models.dashboard import (
    DURATION_LISTS,
    HOUR_COLUMNS,
    ConversationSession,
    DashboardDailyRollup,
)
from crm_store.rollups import fill_daily_extras
from handoff_console.dashboard.charts import chart
from handoff_console.dashboard.filters import FILTER_KEYS, Filters
from handoff_console.dashboard.overview import overview, percentile
from tests.dashboard.rollup_data import HOURS
from worker.jobs.rollups import rebuild

pytestmark = pytest.mark.dashboard

ZONE = ZoneInfo("America/Chicago")
SPAN_DAYS = 21
LAST = NOW.astimezone(ZONE).date()
FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"channel": "telegram"},
    {"channel": "webchat", "language": "unknown"},
    {"intent": "faq"},
    {"intent": "request_human", "branch": "unknown"},
    {"language": "es"},  # no such data: every count is 0
)
"""Filter sets to compare (the generator's readers have no branch or language)."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated reader store on SQLite, and on PostgreSQL (``postgres`` marker)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    upgrade(url)
    return url


@pytest.fixture
def generated(store_url: str, sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The generated store, split into sessions and rolled up in :data:`ZONE`."""
    store = generate(4000, 400, SPAN_DAYS, seed=7)
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite":
        load_sqlite(Path(str(url.database)), store)
    else:
        engine = sessions.kw["bind"]
        load_postgres(engine, store)
    rebuild(sessions, NOW, ZONE, HOURS)
    return sessions


def _matches(row: Any, filters: Filters) -> bool:
    """The dashboard's filters, applied in Python to one session's stored facts."""
    if row.intent is None or row.day is None or not filters.first <= row.day <= filters.last:
        return False
    for key, value in filters.values().items():
        found = getattr(row, key)
        if key == "intent" and value == "faq":
            if not (found == "faq" or found.startswith("faq/")):
                return False
        elif found != value:
            return False
    return True


def _sessions(session: Session, filters: Filters) -> list[Any]:
    rows = session.execute(select(ConversationSession)).scalars()
    return [row for row in rows if _matches(row, filters)]


def _direct_heatmap(session: Session, filters: Filters) -> list[int]:
    counts = Counter((row.day.weekday(), row.hour) for row in _sessions(session, filters))
    return [counts[(weekday, hour)] for weekday in range(7) for hour in range(24)]


def _direct_durations(session: Session, filters: Filters) -> dict[str, Any]:
    """The three duration figures and their sparklines, from the handed-off sessions."""
    per_day: dict[date, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for row in _sessions(session, filters):
        if row.handoff:
            if row.first_response_seconds is not None:
                per_day[row.day][0].append(row.first_response_seconds)
            if row.resolution_seconds is not None:
                per_day[row.day][1].append(row.resolution_seconds)
    first = [v for pair in per_day.values() for v in pair[0]]
    resolution = [v for pair in per_day.values() for v in pair[1]]
    days = filters.day_list()
    return {
        "first_response_median": (
            percentile(first, 0.5),
            [percentile(per_day[d][0], 0.5) for d in days],
        ),
        "first_response_p90": (
            percentile(first, 0.9),
            [percentile(per_day[d][0], 0.9) for d in days],
        ),
        "resolution_median": (
            percentile(resolution, 0.5),
            [percentile(per_day[d][1], 0.5) for d in days],
        ),
    }


@pytest.mark.parametrize("days", [1, 7, SPAN_DAYS + 2])
def test_heatmap_and_medians_equal_the_sessions(
    generated: sessionmaker[Session], days: int
) -> None:
    handed_off = 0
    for values in FILTERS:
        filters = Filters(LAST - timedelta(days=days - 1), LAST, **values)
        with generated() as session:
            heatmap = chart(session, "heatmap", filters)
            assert [row[2] for row in heatmap.rows] == _direct_heatmap(session, filters), values
            body = overview(session, filters, ZONE)
            figures = {f["key"]: (f["value"], f["spark"]) for f in body["figures"]}
            expected = _direct_durations(session, filters)
            assert {key: figures[key] for key in expected} == expected, values
            previous = {f["key"]: f["previous"] for f in body["figures"]}
            before = _direct_durations(session, filters.previous())
            assert {key: previous[key] for key in before} == {k: v[0] for k, v in before.items()}
            handed_off += sum(v is not None for v in expected["first_response_median"][1])
    # the comparison is not vacuous: the store has handoffs with first responses
    with generated() as session:
        everything = Filters(LAST - timedelta(days=SPAN_DAYS + 1), LAST)
        assert _direct_durations(session, everything)["first_response_median"][0] is not None
        assert sum(_direct_heatmap(session, everything)) > 400
        assert handed_off > 0


def _extras(session: Session) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    c = DashboardDailyRollup.__table__.c
    found = {}
    for row in session.execute(
        select(
            c.day,
            *(c[k] for k in FILTER_KEYS),
            *(c[h] for h in HOUR_COLUMNS),
            *(c[name] for name in DURATION_LISTS),
        )
    ):
        lists = tuple(sorted(map(float, text.split(","))) if text else None for text in row[-2:])
        found[tuple(row[:5])] = (*row[5:-2], *lists)
    return found


def test_the_backfill_writes_what_a_refresh_writes(generated: sessionmaker[Session]) -> None:
    with generated() as session:
        refreshed = _extras(session)
    with generated.begin() as session:
        session.execute(
            update(DashboardDailyRollup.__table__).values(
                {**dict.fromkeys(HOUR_COLUMNS, 0), **dict.fromkeys(DURATION_LISTS)}
            )
        )
    with generated.begin() as session:
        assert fill_daily_extras(session.connection()) == len(refreshed)
    with generated() as session:
        assert _extras(session) == refreshed
    hours = sum(sum(v[:24]) for v in refreshed.values())
    handed = sum(len(v[24] or []) for v in refreshed.values())
    assert hours > 400 and handed > 0
