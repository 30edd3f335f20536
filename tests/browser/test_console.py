"""The console's status page in headless Chromium."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.system import RunningSystem

pytestmark = [pytest.mark.browser, pytest.mark.rasa]


def test_status_page_shows_every_service_up_and_refreshes(
    page: Page, system: RunningSystem
) -> None:
    page.goto(f"{system.console_url}/")
    rows = page.locator("#health-rows tr")
    expect(rows).to_have_count(5)
    for name in ("Rasa server", "Action server", "Reader store", "Worker", "Ingestion"):
        expect(page.locator(f'#health-rows tr[data-service="{name}"] .badge')).to_have_text(
            "up", timeout=30_000
        )
    expect(page.locator("#health-updated")).to_contain_text("Updated", timeout=15_000)
    expect(page.get_by_role("link", name="Open the demo library page")).to_have_attribute(
        "href", "/demo"
    )


def test_health_api_reports_the_store_contents(system: RunningSystem) -> None:
    with urllib.request.urlopen(f"{system.console_url}/api/health", timeout=10) as reply:
        body = json.loads(reply.read())
    names = [s["name"] for s in body["services"]]
    assert names == ["Rasa server", "Action server", "Reader store", "Worker", "Ingestion"]
    store = body["services"][2]
    assert store["status"] == "up" and "conversations" in store["detail"]
    assert body["ingestion"]["status"] in {"up", "degraded"}


def test_demo_page_embeds_the_widget_with_one_script_tag(page: Page, system: RunningSystem) -> None:
    page.goto(f"{system.console_url}/demo")
    scripts = page.locator("script[src]")
    expect(scripts).to_have_count(1)
    expect(scripts).to_have_attribute("src", f"{system.rasa_url}/webhooks/webchat/widget.js")
