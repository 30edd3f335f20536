"""The reader intelligence rollup (crm_store.reader_snapshot): what a refresh stores, that
the dashboard's views read it (not the conversations), and that a month slice equals
the live computation. On the history of tests/dashboard/readers_history.py as of
2026-06-15 12:00 UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crm_store import clock
from crm_store.models import Reader
from crm_store.models.dashboard_reports import ReaderSnapshot, ReaderValueRow
from crm_store.reader_dynamics import acquisition, cohort_retention
from crm_store.reader_snapshot import (
    load,
    new_readers_in,
    refresh,
    risk_rows,
    slice_acquisition,
    value_rows,
)
from crm_store.reader_value import ValueRules
from crm_store.sessions import resplit
from handoff_console.dashboard import readers as views
from tests.crm_store.test_analytics_metrics import conversation, message
from tests.dashboard.readers_history import build_history
from tests.handoff_console.conftest import ConsoleStore, staff_store  # noqa: F401 (fixture)
from worker.jobs import _resources
from worker.jobs.reader_intelligence import refresh_reader_intelligence

pytestmark = pytest.mark.dashboard

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(staff_store: ConsoleStore) -> ConsoleStore:  # noqa: F811
    build_history(staff_store.sessions, NOW)
    with staff_store.sessions.begin() as session:
        refresh(session, NOW)
    return staff_store


def test_a_refresh_stores_values_and_documents(store: ConsoleStore) -> None:
    with store.sessions() as session:
        names = set(session.execute(select(ReaderSnapshot.name)).scalars())
        rows = session.execute(select(func.count(ReaderValueRow.reader_id))).scalar_one()
        total, key = value_rows(session, "key")
        churn = load(session, "churn")
        loyalty = load(session, "loyalty")
        risks = risk_rows(session)

    assert names == {"acquisition", "cohorts", "loyalty", "churn", "segments"}
    assert rows == 5
    assert (total, [r.score for r in key]) == (1, [9])
    assert churn == {"run_day": "2026-06-15", "total": 2, "as_of": NOW.isoformat()}
    assert [(r.rank, r.score, r.factors[0]["factor"]) for r in risks] == [
        (1, 53, "silence"),
        (2, 38, "silence"),
    ]
    # the plot's points are counts of readers, never reader ids
    assert loyalty is not None
    assert loyalty["points"] == [
        {"conversations": 2, "mean_rating": 2.0, "segment": "returning", "readers": 1},
        {"conversations": 2, "mean_rating": 5.0, "segment": "returning", "readers": 1},
    ]


def test_slices_equal_the_live_computation(store: ConsoleStore) -> None:
    with store.sessions() as session:
        document = load(session, "acquisition")
        cohorts = load(session, "cohorts")
        assert document is not None and cohorts is not None
        for months in (1, 6, 12):
            live = acquisition(session, NOW, months)
            stored = slice_acquisition(document, months)
            assert stored["months"] == live.months
            assert stored["new_readers"] == live.new_readers
            assert stored["returned"] == live.returned
            assert sorted(stored["first_intents"]) == sorted(live.first_intents)
            assert cohorts["items"][-months:] == cohort_retention(session, NOW, months)
        # dev came 14 days ago: the week of 06-01 has one new reader, the week before none
        day = (NOW - timedelta(days=14)).date()
        assert new_readers_in(document, day, day) == 1
        assert new_readers_in(document, day - timedelta(days=7), day - timedelta(days=1)) == 0
        assert new_readers_in(document, day - timedelta(days=400), day) is None


def test_views_read_the_rollup_until_the_next_refresh(store: ConsoleStore) -> None:
    with store.sessions.begin() as session:
        late = Reader(display_name="Late Comer", created_at=NOW)
        session.add(late)
        session.flush()
        late_chat = conversation(session, "webchat", late, NOW - timedelta(hours=1), "late-1")
        # The reader writes in it, and ingestion opens its channel session: key readers
        # count sessions the reader wrote in, so an empty conversation would not count.
        message(session, late_chat, NOW - timedelta(hours=1), "opening hours?", "library_hours")
        resplit(session, [late_chat.id])
    with store.sessions.begin() as session:
        before, _ = views.acquisition_view(session, 1, NOW)
        segments_before, _ = views.key_readers_view(session, "all", False, 1, "json", NOW)
    assert before["items"][0]["new_readers"] == 1  # dev only, as of the refresh
    assert segments_before["total"] == 5

    with store.sessions.begin() as session:
        refresh(session, NOW, ValueRules())
    with store.sessions.begin() as session:
        after, _ = views.acquisition_view(session, 1, NOW)
        segments_after, _ = views.key_readers_view(session, "all", False, 1, "json", NOW)
    assert after["items"][0]["new_readers"] == 2
    assert segments_after["total"] == 6
    assert segments_after["segments"]["new"] == 2


def test_the_list_is_capped_but_the_export_holds_everyone(store: ConsoleStore) -> None:
    with store.sessions.begin() as session:
        capped, _ = views.key_readers_view(session, "all", False, 1, "json", NOW, limit=2)
        _, table = views.key_readers_view(session, "all", False, 1, "csv", NOW, limit=None)
    assert (capped["total"], len(capped["items"])) == (5, 2)
    assert len(table.rows) == 5


def test_the_worker_job_refreshes(store: ConsoleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_DATABASE_URL", store.url)
    _resources.store_sessions.cache_clear()
    previous = clock.install(clock.TravelClock(NOW + timedelta(days=1)))
    try:
        counts = refresh_reader_intelligence()
    finally:
        clock.install(previous)
        _resources.store_sessions.cache_clear()
    assert counts == {"reader_values": 5, "documents": 5}
    with store.sessions() as session:
        document = load(session, "segments")
    assert document is not None
    assert document["as_of"] == (NOW + timedelta(days=1)).isoformat()
