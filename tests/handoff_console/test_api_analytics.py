"""The analytics API against a real console process, on figures the nightly job stored.

The store holds the hand-built day of ``tests/crm_store/test_analytics_metrics.py``
(Tuesday 2026-03-10) plus three parking questions the bot could not answer; the
analysis runs as of 2026-03-18 03:00 UTC with the real sentence encoder.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry, Reader
from crm_store.sessions import resplit
from tests.crm_store.test_analytics_metrics import (
    EXPECTED,
    HOURS,
    at,
    build_store,
    conversation,
    message,
)
from tests.handoff_console.conftest import ApiClient, ConsoleStore
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings

PARKING = [
    "Is there a car park near the library?",
    "Where can I park my car?",
    "Do you have parking spaces for visitors?",
]
RUN_AT = at(8, 3)  # recomputes DAY .. DAY +7; DAY is complete
ENDPOINTS = ["daily", "summary", "clusters", "churn", "loyalty", "sentiment"]


@pytest.fixture(scope="module")
def analysed(console_store: ConsoleStore) -> dict[str, Any]:
    """Build the data set, run the analysis, return the reader ids."""
    sessions = console_store.sessions
    ids = build_store(sessions)
    with sessions.begin() as s:
        parking = []
        for n, text in enumerate(PARKING):
            conv = conversation(s, "webchat", None, at(2, 10 + n), f"parking{n}")
            message(s, conv, at(2, 10 + n), text, "nlu_fallback")
            parking.append(conv.id)
        resplit(s, parking)  # their channel sessions, as ingestion opens them
        first = s.get(Reader, ids["readers"][0])
        assert first is not None
        first.display_name = "Ada Reader"
        first.email = "ada@example.org"
    settings = AnalyticsSettings(churn_active_days=90, churn_quiet_days=5)
    summary = run_analysis(sessions, RUN_AT, HOURS, settings)
    assert summary["day"] == "2026-03-18"
    return ids


def test_only_managers_and_admins_may_read(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any]
) -> None:
    for endpoint in ENDPOINTS:
        path = f"/api/analytics/{endpoint}"
        assert api_clients["anon"].get(path).status == 401, path
        reply = api_clients["sam"].get(path)  # a librarian
        assert (reply.status, reply.json()["error"]) == (403, "forbidden"), path
        for who in ("morgan", "alex"):  # manager, admin
            assert api_clients[who].get(f"{path}?from=2026-03-01&to=2026-03-18").status == 200


def test_daily_rows_carry_counts_and_rates(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any]
) -> None:
    reply = api_clients["morgan"].get("/api/analytics/daily?from=2026-03-10&to=2026-03-10")
    assert reply.status == 200
    body = reply.json()
    assert body["channels"] == ["all", "telegram", "unknown", "webchat"]
    [row] = body["items"]
    counts = {k: v for k, v in EXPECTED["all"].items() if not k.endswith("_median")}
    assert {name: row[name] for name in counts} == counts
    assert row["first_response_median_seconds"] == 900.0  # median of 600 and 1200
    assert row["resolution_median_seconds"] == 31200.0  # median of 2400 and 60000
    assert row["complete"] is True
    assert {name: row[name] for name in ("containment_rate", "handoff_rate", "csat")} == {
        "containment_rate": 0.1667,  # 1 / 6
        "handoff_rate": 0.5,  # 3 / 6
        "csat": 0.6667,  # 2 / 3
    }
    assert row["response_rate"] == 0.5  # 1 answered / 2 surveys sent
    assert row["fallback_rate"] == 0.3333  # 3 / 9
    assert row["abandonment_rate"] == 0.3333  # 1 / 3
    assert row["first_response_mean_seconds"] == 900.0  # 1800 / 2
    assert row["resolution_mean_seconds"] == 31200.0  # 62400 / 2
    assert row["mean_rating"] == 3.3333  # 10 / 3

    webchat = api_clients["alex"].get(
        "/api/analytics/daily?from=2026-03-10&to=2026-03-10&channel=webchat"
    )
    [row] = webchat.json()["items"]
    assert (row["channel"], row["conversations"], row["containment_rate"]) == (
        "webchat",
        3,
        0.3333,  # 1 / 3
    )


def test_daily_csv_export(api_clients: dict[str, ApiClient], analysed: dict[str, Any]) -> None:
    reply = api_clients["morgan"].get(
        "/api/analytics/daily?from=2026-03-09&to=2026-03-11&format=csv"
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    # DAY -1 was not in the run's 8 days; DAY and DAY +1 were.
    assert [(r["day"], r["conversations"], r["csat"]) for r in rows] == [
        ("2026-03-10", "6", "0.6667"),
        # C4's "thanks" the next morning opened a new session of the Telegram chat: one
        # conversation; C4's rating of 2 on DAY +1: 0 positive / 1
        ("2026-03-11", "1", "0.0"),
    ]


def test_summary_adds_up_a_range(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any]
) -> None:
    body = api_clients["morgan"].get("/api/analytics/summary?from=2026-03-10&to=2026-03-13").json()
    # Channel sessions: DAY: 6 conversations; DAY +1: C4's "thanks" session (a Telegram
    # reader returning the next morning); DAY +2: the 3 parking conversations; DAY +3: C6.
    assert body["conversations"] == 11
    # DAY: C1; DAY +1: C4's second session got the rating of 2 -> not contained; DAY +2:
    # the 3 parking ones are bot-only and anonymous; C6: bot-only, and R2 does not come
    # back after it -> 1 + 0 + 3 + 1 = 5
    assert body["contained_conversations"] == 5
    assert body["containment_rate"] == 0.4545  # 5 / 11
    # ratings: DAY 5, 1, 4; DAY +1: 2 -> positive 2 of 4
    assert (body["ratings"], body["csat"]) == (4, 0.5)
    assert body["days_with_data"] == 4
    assert body["complete"] is False  # DAY +1 .. DAY +3 are still within their window
    assert body["latest_run"]["day"] == "2026-03-18"
    assert body["latest_run"]["churned_readers"] == 4


def test_churn_is_ids_only_unless_asked(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any], console_store: ConsoleStore
) -> None:
    r1, _r2, r3, r4, r5 = analysed["readers"]
    body = api_clients["morgan"].get("/api/analytics/churn").json()
    # quiet 5 days before 2026-03-18: R2 (back on 03-13 15:00) is active; the others
    # were last seen on 03-10 (R1 09:01, R3 11:15, R5 13:00) or 03-11 (R4 09:20).
    assert [item["reader_id"] for item in body["items"]] == [r1, r3, r5, r4]
    assert body["count"] == 4
    assert all(
        set(item) == {"reader_id", "last_active_at", "conversations"} for item in body["items"]
    )
    assert "Ada" not in api_clients["morgan"].get("/api/analytics/churn").text

    personal = api_clients["morgan"].get("/api/analytics/churn?include_personal=true").json()
    assert personal["personal"] is True
    assert personal["items"][0]["display_name"] == "Ada Reader"
    assert personal["items"][0]["email"] == "ada@example.org"
    with console_store.sessions.begin() as s:
        entries = (
            s.execute(select(AuditEntry).where(AuditEntry.action == "analytics_personal_export"))
            .scalars()
            .all()
        )
        assert [(e.subject, e.detail) for e in entries] == [("churn:2026-03-18", {"readers": 4})]

    bad = api_clients["morgan"].get("/api/analytics/churn?include_personal=perhaps")
    assert (bad.status, bad.json()["error"]) == (400, "bad_flag")


def test_clusters_of_unanswered_questions(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any]
) -> None:
    body = api_clients["alex"].get("/api/analytics/clusters").json()
    assert body["day"] == "2026-03-18"
    # 30 days back: the 5 of DAY (see test_analytics_jobs) + 3 parking questions
    assert body["unanswered_questions"] == 8
    top = body["items"][0]
    assert (top["rank"], top["size"]) == (1, 3)
    assert set(top["examples"]) == set(PARKING)
    assert top["channels"] == {"webchat": 3}
    assert "park" in top["label"] or "car" in top["label"]
    missing = api_clients["alex"].get("/api/analytics/clusters?day=2020-01-01")
    assert (missing.status, missing.json()["error"]) == (404, "no_analysis")


def test_loyalty_and_sentiment(api_clients: dict[str, ApiClient], analysed: dict[str, Any]) -> None:
    loyalty = (
        api_clients["morgan"].get("/api/analytics/loyalty?from=2026-03-01&to=2026-03-31").json()
    )
    # 90 days before 03-18, in channel sessions: R1, R3, R5 one conversation each, R2 two
    # (C2, C6), R4 two (Telegram C4: the handoff, then "thanks" the next morning).
    assert loyalty["latest"] == {
        "day": "2026-03-18",
        "window_days": 90,
        "active_readers": 5,
        "repeat_readers": 2,
        "conversations": 7,
        "repeat_share": 0.4,  # 2 / 5
        "conversations_per_reader": 1.4,  # 7 / 5
    }
    assert [item["day"] for item in loyalty["items"]] == ["2026-03-18"]

    sentiment = (
        api_clients["morgan"].get("/api/analytics/sentiment?from=2026-03-10&to=2026-03-11").json()
    )
    # DAY: "Great help, thank you!" (+) and "terrible, the bot was useless" (-);
    # DAY +1: "slow" (-)
    assert {k: sentiment["total"][k] for k in ("comments", "positive", "negative", "neutral")} == {
        "comments": 3,
        "positive": 1,
        "negative": 2,
        "neutral": 0,
    }
    assert "useless" not in str(sentiment)  # scores only, never the comments


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("from=2026-13-01", "bad_date"),
        ("from=2026-03-10&to=2026-03-01", "bad_range"),
        ("from=2024-01-01&to=2026-03-01", "bad_range"),
        ("format=xml", "bad_format"),
    ],
)
def test_bad_parameters(
    api_clients: dict[str, ApiClient], analysed: dict[str, Any], query: str, error: str
) -> None:
    reply = api_clients["morgan"].get(f"/api/analytics/daily?{query}")
    assert (reply.status, reply.json()["error"]) == (400, error)


def test_openapi_lists_the_analytics_endpoints(api_clients: dict[str, ApiClient]) -> None:
    paths = api_clients["anon"].get("/api/openapi.json").json()["paths"]
    assert {f"/api/analytics/{e}" for e in ENDPOINTS} <= set(paths)
    assert paths["/api/analytics/daily"]["get"]["tags"] == ["analytics"]
