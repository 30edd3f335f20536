"""The demo history as a manager and an admin see it through the real console's API.

One console process on a store with the console's staff, the demo readers and the demo
history (seeded and refreshed as ``./ric up`` does, as of now): every dashboard figure,
chart and reader view answers with data, and the NLU inbox has groups.
"""

from __future__ import annotations

from typing import Any

import pytest

from crm_store import clock
from crm_store.seed import seed_demo
from handoff_console.dashboard.charts import CHARTS
from launcher.demo_history import seed_and_refresh
from tests.handoff_console.conftest import (
    ApiClient,
    ConsoleStore,
    api_clients,
    console,
    console_store,
)

pytestmark = pytest.mark.dashboard

__all__ = ["api_clients", "console", "console_store"]


@pytest.fixture(scope="module")
def demo(console_store: ConsoleStore) -> dict[str, Any]:
    """The demo history of the last 90 days, with the figures refreshed."""
    with console_store.sessions.begin() as session:
        seed_demo(session)
    history, refreshed = seed_and_refresh(console_store.sessions, clock.now())
    assert history.skipped is None
    return {"history": history, "refreshed": refreshed}


def _json(client: ApiClient, path: str) -> Any:
    reply = client.get(path)
    assert reply.status == 200, (path, reply.text)
    return reply.json()


def test_overview_figures_are_filled(
    api_clients: dict[str, ApiClient], demo: dict[str, Any]
) -> None:
    body = _json(api_clients["morgan"], "/api/dashboard/overview?preset=30d")
    values = {f["key"]: f["value"] for f in body["figures"]}
    assert values["conversations"] > 200
    assert 0 < values["containment"] < 1 and 0 < values["handoff_rate"] < 0.3
    assert 0 < values["fallback_rate"] < 0.3 and 0 < values["csat"] <= 1
    assert values["first_response_median"] > 0 and values["open_tickets"] > 0
    assert body["options"]["channel"] == ["email", "slack", "telegram", "webchat"]
    telegram = _json(api_clients["morgan"], "/api/dashboard/overview?preset=30d&channel=telegram")
    narrowed = {f["key"]: f["value"] for f in telegram["figures"]}
    assert 0 < narrowed["conversations"] < values["conversations"]


def test_every_chart_has_rows(api_clients: dict[str, ApiClient], demo: dict[str, Any]) -> None:
    empty = []
    for name in CHARTS:
        if name == "clusters":  # the demo refresh does not cluster (no sentence encoder)
            continue
        table = _json(api_clients["morgan"], f"/api/dashboard/charts/{name}?preset=90d")
        if not table["rows"]:
            empty.append(name)
    assert empty == []
    drill = _json(api_clients["morgan"], "/api/dashboard/drill?preset=7d&channel=webchat")
    assert drill["total"] > 0 and drill["items"]
    assert {item["channel"] for item in drill["items"]} == {"webchat"}


def test_reader_views_have_data(api_clients: dict[str, ApiClient], demo: dict[str, Any]) -> None:
    client = api_clients["morgan"]
    for path in ("acquisition", "first-intents", "cohorts", "loyalty", "key", "churn"):
        body = _json(client, f"/api/dashboard/readers/{path}")
        assert any(isinstance(v, list) and v for v in body.values()), (path, body)


def test_the_admin_sees_an_nlu_inbox(
    api_clients: dict[str, ApiClient], demo: dict[str, Any]
) -> None:
    body = _json(api_clients["alex"], "/api/studio/inbox")
    reasons = {r for group in body["groups"] for r in group["reasons"]}
    assert len(body["groups"]) > 5
    assert {"fallback", "low_confidence"} <= reasons
