"""Reader intelligence on PostgreSQL: the same history, the real nightly analysis, the
rollup refresh and the views give the figures they give on SQLite (test_readers_figures,
test_readers_rollup). Skips without PostgreSQL on a laptop; CI must provide it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.reader_snapshot import refresh
from crm_store.weekly_figures import last_full_week, weekly_figures
from handoff_console.accounts import create_staff
from handoff_console.dashboard import readers as views
from tests.dashboard.readers_history import NAMES, build_history

pytestmark = [pytest.mark.dashboard, pytest.mark.postgres]

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(postgres_url)
    factory = make_session_factory(make_engine(postgres_url))
    yield factory
    factory.kw["bind"].dispose()


def test_the_rollup_and_views_on_postgresql(sessions: sessionmaker[Session]) -> None:
    ids = build_history(sessions, NOW)
    with sessions.begin() as session:
        counts = refresh(session, NOW)
        morgan = create_staff(
            session,
            username="morgan",
            password="morgan-manager-pass",
            role="manager",
            display_name="Morgan Lee",
        ).id
    assert counts == {"reader_values": 5, "documents": 5}

    with sessions.begin() as session:
        acquisition, _ = views.acquisition_view(session, 6, NOW)
        cohorts, _ = views.cohorts_view(session, 6, NOW)
        churn, _ = views.churn_view(session, True, morgan, "json", NOW)
        key, table = views.key_readers_view(session, "all", False, 1, "csv", NOW, limit=None)
        loyalty, _ = views.loyalty_view(session, NOW)
        week = weekly_figures(session, last_full_week(NOW), NOW)

    assert [i["new_readers"] for i in acquisition["items"]] == [1, 0, 2, 0, 1, 1]
    assert acquisition["returning_share"] == 0.4
    assert cohorts["items"][2] == {
        "month": "2026-03",
        "readers": 2,
        "retention": [1.0, 0.5, 0.0, 0.0],
    }
    assert [(i["score"], i["profile"], i["name"]) for i in churn["items"]] == [
        (53, f"/readers/{ids['cleo']}", NAMES["cleo"]),
        (38, f"/readers/{ids['eve']}", NAMES["eve"]),
    ]
    assert key["segments"] == {"key": 1, "loyal": 1, "new": 1, "at_risk": 0, "occasional": 2}
    assert len(table.rows) == 5
    assert [(i["segment"], i["readers"]) for i in loyalty["items"]] == [
        ("one_time", 2),
        ("returning", 2),
        ("loyal", 0),
    ]
    assert (week.at_risk, week.segments["key"]) == (2, 1)
    assert [f.value for f in week.figures if f.key == "new_readers"] == [0]


def test_a_second_refresh_replaces_the_first(sessions: sessionmaker[Session]) -> None:
    build_history(sessions, NOW)
    for _ in range(2):
        with sessions.begin() as session:
            assert refresh(session, NOW)["reader_values"] == 5
