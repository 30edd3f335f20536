"""Reader intelligence figures (crm_store.reader_dynamics, reader_value) on a real SQLite store.

The history of tests/dashboard/readers_history.py, as of 2026-06-15 12:00 UTC, so the
months are known: ada first came on 2026-01-10, ben and cleo in March, eve in May and
dev in June.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crm_store.reader_dynamics import (
    acquisition,
    churn_risk,
    cohort_retention,
    loyalty_segments,
    months_back,
)
from crm_store.reader_value import ValueRules, pseudonym, pseudonym_key, reader_values
from tests.dashboard.readers_history import build_history
from tests.handoff_console.conftest import ConsoleStore, staff_store  # noqa: F401 (fixture)

pytestmark = pytest.mark.dashboard

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


@pytest.fixture
def history(staff_store: ConsoleStore) -> dict[str, int]:  # noqa: F811
    return build_history(staff_store.sessions, NOW)


def test_months_back_crosses_the_year() -> None:
    assert months_back(datetime(2026, 2, 1, tzinfo=timezone.utc), 3) == [
        "2025-12",
        "2026-01",
        "2026-02",
    ]


def test_acquisition_by_month_channel_and_returns(
    staff_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    with staff_store.sessions() as session:
        found = acquisition(session, NOW, 6)

    assert found.months == MONTHS
    assert found.channels == ["email", "telegram", "webchat"]
    assert found.new_readers == {
        "2026-01": {"webchat": 1},
        "2026-02": {},
        "2026-03": {"telegram": 1, "webchat": 1},
        "2026-04": {},
        "2026-05": {"webchat": 1},
        "2026-06": {"email": 1},
    }
    assert found.returned == dict(zip(MONTHS, [1, 0, 1, 0, 0, 0], strict=True))
    assert found.returning_share == 0.4
    # greetings are skipped: ada's first question was a renewal, dev's a search
    assert sorted(found.first_intents) == [
        ("check_fines", 1),
        ("library_hours", 1),
        ("renew_loans", 1),
        ("request_human", 1),
        ("search_catalog", 1),
    ]


def test_cohort_retention(staff_store: ConsoleStore, history: dict[str, int]) -> None:  # noqa: F811
    with staff_store.sessions() as session:
        rows = cohort_retention(session, NOW, 6)

    assert rows == [
        {"month": "2026-01", "readers": 1, "retention": [1.0, 1.0, 1.0, 0.0, 1.0, 1.0]},
        {"month": "2026-02", "readers": 0, "retention": [None] * 5},
        {"month": "2026-03", "readers": 2, "retention": [1.0, 0.5, 0.0, 0.0]},
        {"month": "2026-04", "readers": 0, "retention": [None] * 3},
        {"month": "2026-05", "readers": 1, "retention": [1.0, 0.0]},
        {"month": "2026-06", "readers": 1, "retention": [1.0]},
    ]


def test_loyalty_segments_and_csat(staff_store: ConsoleStore, history: dict[str, int]) -> None:  # noqa: F811
    with staff_store.sessions() as session:
        view = loyalty_segments(session, NOW, 90)

    assert view.readers == {"one_time": 2, "returning": 2, "loyal": 0}
    assert view.ratings == {"one_time": 0, "returning": 2, "loyal": 0}
    assert view.csat("returning") == 0.5
    assert view.mean_rating("returning") == 3.5
    assert view.csat("one_time") is None
    assert view.points == [
        {
            "reader_id": history["ada"],
            "conversations": 2,
            "mean_rating": 5.0,
            "segment": "returning",
        },
        {
            "reader_id": history["cleo"],
            "conversations": 2,
            "mean_rating": 2.0,
            "segment": "returning",
        },
    ]


def test_churn_risk_scores_the_stored_churn_list(
    staff_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    with staff_store.sessions() as session:
        day, scored = churn_risk(session, NOW)

    assert day == NOW.date()
    assert [(r.reader_id, r.score) for r in scored] == [(history["cleo"], 53), (history["eve"], 38)]
    assert scored[0].factors == [
        {"factor": "silence", "points": 33, "detail": "quiet for 74 days"},
        {"factor": "low_rating", "points": 20, "detail": "latest rating 2 of 5"},
    ]
    assert [f["factor"] for f in scored[1].factors] == ["silence", "left_waiting"]


def test_value_segmentation(staff_store: ConsoleStore, history: dict[str, int]) -> None:  # noqa: F811
    with staff_store.sessions() as session:
        values = reader_values(session, NOW, ValueRules())

    by_key = {key: values[reader_id] for key, reader_id in history.items()}
    got = {k: (v.segment, v.recency, v.frequency, v.breadth) for k, v in by_key.items()}
    assert got == {
        "ada": ("key", 3, 3, 3),
        "ben": ("occasional", 1, 1, 1),
        "cleo": ("loyal", 2, 2, 3),
        "dev": ("new", 3, 1, 1),
        "eve": ("occasional", 2, 1, 1),
    }
    assert by_key["ada"].loans == 3
    assert by_key["ada"].services == {
        "loans", "holds", "catalogue", "fines", "information", "feedback",
    }  # fmt: skip
    assert by_key["eve"].services == {"librarian"}


def test_thresholds_change_the_segments(
    staff_store: ConsoleStore,  # noqa: F811
    history: dict[str, int],
) -> None:
    with staff_store.sessions() as session:
        strict = reader_values(session, NOW, ValueRules(frequent=20))
        lapsing = reader_values(session, NOW, ValueRules(lapsed_days=60))
    assert strict[history["ada"]].segment == "loyal"
    assert (lapsing[history["cleo"]].recency, lapsing[history["cleo"]].segment) == (1, "at_risk")


def test_pseudonyms_are_stable_and_keyed(staff_store: ConsoleStore) -> None:  # noqa: F811
    with staff_store.sessions.begin() as session:
        key = pseudonym_key(session)
    with staff_store.sessions.begin() as session:
        again = pseudonym_key(session)
    assert key == again
    assert pseudonym(key, 7) == pseudonym(again, 7)
    assert pseudonym(key, 7) != pseudonym(key, 8)
    assert pseudonym(key, 7).startswith("R-") and len(pseudonym(key, 7)) == 14
