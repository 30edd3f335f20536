"""The overview, chart and drill-down API against a real console process and store.

The store holds the hand-built day of ``tests/dashboard/rollup_data.py`` (Monday
2026-03-02), rolled up by the worker's own refresh; every figure below follows from it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from crm_store.models import Ticket
from handoff_console.dashboard.charts import CHARTS
from library.profile import library_zone
from tests.dashboard.overview_day import day_figures
from tests.dashboard.rollup_data import DAY, HOURS, at, build_day
from tests.handoff_console.conftest import ApiClient, ConsoleStore
from worker.jobs.rollups import refresh_recent

pytestmark = pytest.mark.dashboard

PERIOD = f"from={DAY.isoformat()}&to={DAY.isoformat()}"
ROUTES = [
    "/api/dashboard/overview",
    "/api/dashboard/drill",
    *(f"/api/dashboard/charts/{name}" for name in CHARTS),
]


@pytest.fixture(scope="module")
def day(console_store: ConsoleStore) -> dict[str, int]:
    """The day's chats, an open ticket, and the rollups as the worker computes them."""
    ids = build_day(console_store.sessions)
    with console_store.sessions.begin() as session:
        session.add(
            Ticket(
                conversation_id=ids["mail-d"],
                subject="Loans",
                body="Please call me",
                created_at=at(15, 10),
            )
        )
    refresh_recent(console_store.sessions, at(12, days=2), library_zone(), HOURS, 3)
    return ids


def figures(reply: Any) -> dict[str, Any]:
    assert reply.status == 200, reply.text
    return {f["key"]: f for f in reply.json()["figures"]}


def test_librarians_get_403_and_strangers_401(
    api_clients: dict[str, ApiClient], day: dict[str, int]
) -> None:
    for path in ROUTES:
        assert api_clients["anon"].get(path).status == 401, path
        reply = api_clients["sam"].get(path)
        assert (reply.status, reply.json()["error"]) == (403, "forbidden"), path
        assert api_clients["morgan"].get(f"{path}?{PERIOD}").status == 200, path
        admin = api_clients["alex"].get(f"{path}?{PERIOD}").status
        assert admin == (403 if path.endswith("/workload") else 200), path


def test_overview_figures_of_the_day(
    api_clients: dict[str, ApiClient], day: dict[str, int]
) -> None:
    found = figures(api_clients["morgan"].get(f"/api/dashboard/overview?{PERIOD}"))
    values = {key: f["value"] for key, f in found.items()}
    assert values == day_figures(open_tickets=1)
    conversations = found["conversations"]
    assert (conversations["previous"], conversations["change"]) == (0, 5)
    assert conversations["change_ratio"] is None  # nothing to compare with
    assert conversations["spark"] == [5]
    assert found["csat"]["previous"] is None  # no ratings the day before


def test_filters_narrow_the_figures(api_clients: dict[str, ApiClient], day: dict[str, int]) -> None:
    client = api_clients["morgan"]
    telegram = figures(client.get(f"/api/dashboard/overview?{PERIOD}&channel=telegram"))
    assert (telegram["conversations"]["value"], telegram["containment"]["value"]) == (2, 0.5)
    assert telegram["open_tickets"]["value"] == 0  # the ticket came by email
    central = figures(client.get(f"/api/dashboard/overview?{PERIOD}&branch=central"))
    assert central["conversations"]["value"] == 1
    faq = figures(client.get(f"/api/dashboard/overview?{PERIOD}&intent=faq"))
    assert faq["conversations"]["value"] == 1  # faq/parking counts as faq
    body = client.get(f"/api/dashboard/overview?{PERIOD}&channel=slack").json()
    assert body["filters"]["channel"] == "slack"
    assert body["options"]["channel"] == ["email", "slack", "telegram", "webchat"]
    assert body["previous_period"] == {"from": "2026-03-01", "to": "2026-03-01"}
    week = client.get("/api/dashboard/overview?from=2026-03-02&to=2026-03-08").json()
    spark = {f["key"]: f["spark"] for f in week["figures"]}
    assert spark["conversations"] == [5, 0, 0, 0, 0, 0, 0]
    assert spark["containment"] == [0.4, None, None, None, None, None, None]


def test_bad_filters_are_refused(api_clients: dict[str, ApiClient], day: dict[str, int]) -> None:
    client = api_clients["morgan"]
    for query, error in [
        ("preset=5y", "bad_preset"),
        ("from=2026-03-02", "bad_range"),
        ("from=2026-03-05&to=2026-03-01", "bad_range"),
        ("from=2025-01-01&to=2026-03-01", "bad_range"),
        ("from=yesterday&to=2026-03-01", "bad_date"),
        ("channel=%01x", "bad_filter"),
        (f"{PERIOD}&format=pdf", "bad_format"),
    ]:
        reply = client.get(f"/api/dashboard/overview?{query}")
        assert (reply.status, reply.json()["error"]) == (400, error), query
    for query in ("hour=24", "weekday=x", "day=2026-04-01", "figure=everything"):
        reply = client.get(f"/api/dashboard/drill?{PERIOD}&{query}")
        assert (reply.status, reply.json()["error"]) == (400, "bad_drill"), query


def test_overview_exports(api_clients: dict[str, ApiClient], day: dict[str, int]) -> None:
    reply = api_clients["morgan"].get(f"/api/dashboard/overview?{PERIOD}&format=csv")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0] == ["Figure", "Unit", "This period", "Previous period", "Change"]
    by_label = {row[0]: row for row in rows[1:]}
    assert by_label["Containment rate"][1:3] == ["%", "40.0"]
    assert by_label["Conversations"][2:5] == ["5.0", "0.0", "5.0"]
    xlsx = api_clients["morgan"].get(f"/api/dashboard/overview?{PERIOD}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert [c.value for c in sheet[1]] == rows[0]
    assert sheet.max_row == len(rows)


def chart(client: ApiClient, name: str, query: str = PERIOD) -> dict[str, Any]:
    reply = client.get(f"/api/dashboard/charts/{name}?{query}")
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert len(body["rows"]) == len(body["drill"])
    return body


def test_charts_as_tables(api_clients: dict[str, ApiClient], day: dict[str, int]) -> None:
    client = api_clients["morgan"]
    heat = chart(client, "heatmap")
    assert len(heat["rows"]) == 7 * 24
    busy = {(r[0], r[1]): r[2] for r in heat["rows"] if r[2]}
    assert busy == {("Monday", h): 1 for h in (10, 11, 13, 15, 20)}
    assert chart(client, "channels")["rows"] == [
        ["telegram", 2, 0.4],
        ["email", 1, 0.2],
        ["slack", 1, 0.2],
        ["webchat", 1, 0.2],
    ]
    intents = {r[0]: r[1:] for r in chart(client, "intents")["rows"]}
    assert intents["faq"] == [1, 0.0] and intents["library_hours"] == [1, 1.0]
    assert chart(client, "faq")["rows"] == [["parking", 1, 0.0]]
    assert chart(client, "trends")["rows"] == [["2026-03-02", 0.4, 0.5, 5, 2]]
    assert chart(client, "handoff-reasons")["rows"] == [["asked for a person", 1]]
    assert chart(client, "workload")["rows"] == [["Sam Reyes", 1, 600.0, 1.0, 1]]
    assert chart(client, "volume")["rows"] == [["2026-03-02", 5, 1, 2]]


def test_chart_exports(api_clients: dict[str, ApiClient], day: dict[str, int]) -> None:
    reply = api_clients["morgan"].get(f"/api/dashboard/charts/handoff-reasons?{PERIOD}&format=csv")
    assert list(csv.reader(io.StringIO(reply.text))) == [
        ["Reason", "Handoffs"],
        ["asked for a person", "1"],
    ]
    assert "dashboard-handoff-reasons-" in reply.headers["content-disposition"]
    xlsx = api_clients["alex"].get(f"/api/dashboard/charts/volume?{PERIOD}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Day", "Conversations", "Handed off", "Contained"],
        ["2026-03-02", 5, 1, 2],
    ]


def test_drill_down_lists_the_conversations(
    api_clients: dict[str, ApiClient], day: dict[str, int]
) -> None:
    client = api_clients["morgan"]
    heat = chart(client, "heatmap")
    cell = heat["drill"][[r[:2] for r in heat["rows"]].index(["Monday", 11])]
    assert cell == {"weekday": 0, "hour": 11}
    body = client.get(f"/api/dashboard/drill?{PERIOD}&weekday=0&hour=11").json()
    [item] = body["items"]
    assert (item["conversation_id"], item["intent"], item["channel"]) == (
        day["tg-b"],
        "faq/parking",
        "telegram",
    )
    assert item["transcript_url"] == f"/conversations/{day['tg-b']}"
    handed = client.get(f"/api/dashboard/drill?{PERIOD}&figure=handoff").json()
    assert [i["conversation_id"] for i in handed["items"]] == [day["slack-c"]]
    everything = client.get(f"/api/dashboard/drill?{PERIOD}").json()
    assert everything["total"] == 5 and not everything["truncated"]
    sam = chart(client, "workload")["drill"][0]
    mine = client.get(f"/api/dashboard/drill?{PERIOD}&librarian={sam['librarian']}").json()
    assert [i["handoff_reason"] for i in mine["items"]] == ["asked for a person"]
    reasons = client.get(f"/api/dashboard/drill?{PERIOD}&reason=asked%20for%20a%20person")
    assert reasons.json()["total"] == 1
    export = client.get(f"/api/dashboard/drill?{PERIOD}&figure=contained&format=csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert sorted(row[4] for row in rows[1:]) == ["library_hours", "renew_loans"]
