"""A fresh ``./ric up`` with the demo history: the manager's dashboard and the admin's inbox.

``python -m launcher up`` (one system for the module, ``RIC_DEMO_HISTORY=1``) seeds the
demo readers, the console's demo accounts and about 90 days of generated chats, and
computes the figures at once. In headless Chromium the demo manager (``morgan``, with
the password ``./ric up`` printed and kept in ``var/secrets/demo-staff.txt``) opens
every dashboard page, sets a filter, sees the charts drawn, drills down and exports;
the demo admin (``alex``) sees the NLU inbox filled. Screenshots go to
``docs/img/dashboard/demo-*.png``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.system import RunningSystem, start_system

pytestmark = [pytest.mark.browser, pytest.mark.dashboard]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard"
CHARTS = ("heatmap", "volume", "channels", "intents", "faq", "trends", "handoff-reasons")
READER_SECTIONS = ("acquisition", "first-intents", "cohorts", "loyalty", "churn", "key")


@pytest.fixture(scope="module")
def demo_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The whole system, started as ``./ric up`` does, with the demo history on."""
    system = start_system(
        tmp_path_factory.mktemp("demo-system") / "var", extra_env={"RIC_DEMO_HISTORY": "1"}
    )
    yield system
    system.stop()


def password(system: RunningSystem, username: str) -> str:
    """The demo account's password, as ``./ric up`` keeps it (``name role password``)."""
    for line in (system.var_dir / "secrets" / "demo-staff.txt").read_text().splitlines():
        name, _role, secret = line.split()
        if name == username:
            return secret
    raise AssertionError(f"no demo account {username}")


def sign_in(page: Page, system: RunningSystem, path: str, username: str) -> None:
    page.goto(f"{system.console_url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password(system, username))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(f"{system.console_url}{path}") + r"(\?|$)"))


def number(page: Page, key: str) -> float:
    value = page.locator(f'.dashboard-card[data-figure="{key}"] .value')
    expect(value).not_to_have_text("")
    text = value.inner_text().replace(",", "").strip()
    match = re.search(r"[0-9.]+", text)
    assert match is not None, (key, text)
    return float(match.group())


def test_ric_up_says_what_it_seeded(demo_system: RunningSystem) -> None:
    said = [line for line in demo_system.output if "demo history:" in line]
    assert len(said) == 1 and re.search(r"\d+ conversations, \d+ events", said[0]), said


def test_a_manager_sees_every_dashboard_page_with_the_demo_data(
    page: Page, demo_system: RunningSystem
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = demo_system.console_url
    sign_in(page, demo_system, "/dashboard", "morgan")
    everything = number(page, "conversations")
    assert everything > 100
    for key in ("containment", "handoff_rate", "csat", "fallback_rate", "open_tickets"):
        assert number(page, key) > 0, key
    expect(page.locator(".dashboard-card .spark svg path").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "demo-overview.png"), full_page=True)

    # A filter narrows the figures; the CSV export carries it.
    page.locator("#filter-channel").select_option("telegram")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"channel=telegram"))
    telegram = number(page, "conversations")
    assert 0 < telegram < everything
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows[1][:2] == ["Conversations", "count"] and float(rows[1][2]) == telegram

    # Charts: each drawn, with marks.
    page.goto(f"{url}/dashboard/charts?preset=90d")
    for name in (*CHARTS, "workload"):
        section = page.locator(f"#chart-{name}")
        expect(section).to_have_attribute("data-rendered", "1")
        assert section.locator(".chart svg path").count() > 3, name
    page.screenshot(path=str(SHOTS / "demo-charts.png"), full_page=True)

    # The drill-down page lists the webchat conversations of the last 30 days.
    page.goto(f"{url}/dashboard/drill?preset=30d&channel=webchat")
    rows_shown = page.locator("#drill-table tbody tr")
    expect(rows_shown.first).to_be_visible()
    assert rows_shown.count() > 10
    expect(page.locator("#drill-summary")).to_contain_text("conversation")

    # Readers: every section loaded, the charts drawn, key readers listed.
    page.goto(f"{url}/dashboard/readers")
    for key in READER_SECTIONS:
        expect(page.locator(f"#section-{key}")).to_have_attribute("data-loaded", "true")
    for key in ("acquisition", "first-intents", "loyalty", "key"):
        assert page.locator(f"#chart-{key} svg path").count() > 3, key
    expect(page.locator('table[data-table="key"] tbody tr').first).to_be_visible()
    page.screenshot(path=str(SHOTS / "demo-readers.png"), full_page=True)

    # The weekly report: its three charts load, its figures are filled.
    page.goto(f"{url}/dashboard/report")
    images = page.locator(".report-charts img")
    expect(images).to_have_count(3)
    for n in range(3):
        images.nth(n).scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=images.nth(n).element_handle()
        )
    expect(page.locator("#report-table tbody tr")).to_have_count(8)
    page.screenshot(path=str(SHOTS / "demo-report.png"), full_page=True)


def test_an_admin_sees_the_nlu_inbox_filled(page: Page, demo_system: RunningSystem) -> None:
    sign_in(page, demo_system, "/studio/inbox", "alex")
    groups = page.locator("section.inbox-group")
    expect(groups.first).to_be_visible()
    assert groups.count() > 5
    page.screenshot(path=str(SHOTS.parent / "studio" / "demo-inbox.png"))  # the first groups
