"""The manager dashboard in headless Chromium: overview, charts, drill-down, exports, roles.

A real console process on a migrated SQLite store with a fortnight of chats ingested
through the real ingestion path (``tests/dashboard/rollup_data.build_recent``) and
rolled up by the worker's own refresh. Screenshots go to ``docs/img/dashboard/``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from crm_store import clock
from library.profile import library_zone
from library.staffed_time import staffed_hours_from_profile
from tests.browser.axe import axe_violations, report
from tests.dashboard.rollup_data import build_recent
from tests.handoff_console.conftest import (
    STAFF,
    ConsoleStore,
    api_token_for,
    console,
    console_store,
)
from tests.handoff_console.console_server import ConsoleServer
from worker.jobs.rollups import refresh_recent

pytestmark = [pytest.mark.browser, pytest.mark.dashboard]
__all__ = ["console", "console_store"]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard"
CHARTS = ("heatmap", "volume", "channels", "intents", "faq", "trends", "handoff-reasons")


@pytest.fixture(scope="module")
def demo(console: ConsoleServer, console_store: ConsoleStore) -> str:
    """The fortnight of chats, rolled up; returns the console's URL."""
    now = clock.now()
    assert build_recent(console_store.sessions, now) > 50
    refresh_recent(console_store.sessions, now, library_zone(), staffed_hours_from_profile(), 15)
    return f"http://127.0.0.1:{console.port}"


def sign_in(page: Page, url: str, path: str, username: str) -> None:
    page.goto(f"{url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(STAFF[username][2])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}{path}")


def card_value(page: Page, key: str) -> str:
    value = page.locator(f'.dashboard-card[data-figure="{key}"] .value')
    expect(value).not_to_have_text("")
    return value.inner_text()


def download(page: Page, link: Any) -> bytes:
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    return Path(path).read_bytes()


def test_overview_filters_and_exports(page: Page, demo: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, demo, "/dashboard", "morgan")
    expect(page.get_by_role("navigation", name="Dashboard").get_by_role("link")).to_have_text(
        ["Overview", "Charts", "Readers", "Report"]
    )
    cards = page.locator(".dashboard-card")
    expect(cards).to_have_count(9)
    everything = int(card_value(page, "conversations").replace(",", ""))
    assert everything > 50
    # every sparkline is drawn (SVG with a path)
    expect(page.locator(".dashboard-card .spark svg path").first).to_be_visible()
    assert page.locator(".dashboard-card .spark svg").count() == 9
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], report(violations)

    # A filter lands in the URL and changes the figures.
    page.locator("#filter-channel").select_option("telegram")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"channel=telegram"))
    assert "branch=" not in page.url  # empty filters stay out of the URL
    telegram = int(card_value(page, "conversations").replace(",", ""))
    assert 0 < telegram < everything
    expect(page.locator("#dashboard-period")).to_contain_text("channel: telegram")

    # A custom period.
    page.locator("#filter-preset").select_option("custom")
    page.locator("#filter-from").fill("2020-01-01")
    page.locator("#filter-to").fill("2020-01-31")
    page.get_by_role("button", name="Apply").click()
    query = parse_qs(urlparse(page.url).query)
    assert (query["from"], query["to"], query["channel"]) == (
        ["2020-01-01"],
        ["2020-01-31"],
        ["telegram"],
    )
    assert card_value(page, "conversations") == "0"

    # The exports carry the same filters.
    page.goto(f"{demo}/dashboard?preset=30d&channel=telegram")
    expect(page.locator("#export-csv")).to_have_attribute("href", re.compile("channel=telegram"))
    rows = list(csv.reader(io.StringIO(download(page, page.locator("#export-csv")).decode())))
    assert rows[0] == ["Figure", "Unit", "This period", "Previous period", "Change"]
    assert rows[1][:3] == ["Conversations", "count", f"{float(telegram)}"]
    sheet = load_workbook(io.BytesIO(download(page, page.locator("#export-xlsx")))).active
    assert [c.value for c in sheet[1]] == rows[0]
    assert sheet["C2"].value == telegram


def test_charts_render_and_drill_down(page: Page, demo: str) -> None:
    sign_in(page, demo, "/dashboard/charts", "morgan")
    for name in (*CHARTS, "workload"):
        section = page.locator(f"#chart-{name}")
        expect(section).to_have_attribute("data-rendered", "1")
        assert section.locator(".chart svg path").count() > 0, name
    expect(page.locator("#chart-clusters")).to_be_visible()
    page.screenshot(path=str(SHOTS / "charts.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], report(violations)

    # The table view holds the same figures as the chart and its CSV.
    channels = page.locator("#chart-channels")
    channels.get_by_text("Channel mix as a table").click()
    table_rows = channels.locator("tbody tr")
    expect(table_rows.first).to_be_visible()
    csv_rows = list(
        csv.reader(io.StringIO(download(page, channels.get_by_role("link", name="CSV")).decode()))
    )
    assert csv_rows[0] == ["Channel", "Conversations", "Share"]
    assert table_rows.count() == len(csv_rows) - 1
    first_cells = table_rows.first.locator("td").all_inner_texts()
    assert first_cells[:2] == csv_rows[1][:2]
    xlsx = load_workbook(
        io.BytesIO(download(page, channels.get_by_role("link", name="XLSX")))
    ).active
    assert [c.value for c in xlsx[1]] == csv_rows[0]

    # Click the busiest cell of the heatmap: the drill-down lists its conversations.
    heat = page.locator("#chart-heatmap .chart")
    heat.scroll_into_view_if_needed()
    target = page.evaluate(
        """(node) => {
            const chart = echarts.getInstanceByDom(node);
            const data = chart.getOption().series[0].data;
            const best = data.reduce((a, b) => (b[2] > a[2] ? b : a));
            const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [best[0], best[1]]);
            return { x, y, hour: Number(best[0]), weekday: best[1], count: best[2] };
        }""",
        heat.element_handle(),
    )
    box = heat.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    expect(page).to_have_url(re.compile(r"/dashboard/drill\?"))
    query = parse_qs(urlparse(page.url).query)
    assert (query["weekday"], query["hour"]) == ([str(target["weekday"])], [str(target["hour"])])
    rows = page.locator("#drill-table tbody tr")
    expect(rows).to_have_count(target["count"])
    expect(page.locator("#drill-summary")).to_contain_text(f"{target['count']} conversation")
    page.screenshot(path=str(SHOTS / "drill.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], report(violations)
    link = rows.first.get_by_role("link")
    href = link.get_attribute("href")
    assert href is not None and re.fullmatch(r"/conversations/\d+", href)
    link.click()
    expect(page).to_have_url(f"{demo}{href}")


def test_admins_see_no_workload_and_librarians_get_403(
    page: Page, demo: str, console_store: ConsoleStore
) -> None:
    sign_in(page, demo, "/dashboard/charts", "alex")
    expect(page.locator("#chart-volume")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#chart-workload")).to_have_count(0)
    page.context.clear_cookies()
    sign_in_page = page
    sign_in_page.goto(f"{demo}/login")
    sign_in_page.get_by_label("User name").fill("sam")
    sign_in_page.get_by_label("Password").fill(STAFF["sam"][2])
    sign_in_page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    for path in ("/dashboard", "/dashboard/charts", "/dashboard/drill", "/api/dashboard/overview"):
        reply = page.request.get(f"{demo}{path}")
        assert reply.status == 403, path
    token = api_token_for(console_store.sessions, "sam")
    reply = page.request.get(
        f"{demo}/api/dashboard/charts/volume", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status == 403
