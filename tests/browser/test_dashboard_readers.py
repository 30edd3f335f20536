"""The dashboard's Readers and Report tabs in headless Chromium (issue 17, part 2).

A real console process on a migrated SQLite store holding the five readers of
tests/dashboard/readers_history.py plus a seeded demo crowd of 60, with the real nightly
analysis run. A manager sees the charts drawn (SVG with marks), pseudonyms, exports CSV
and XLSX (downloaded and parsed), reveals names (audited, shown as text), prints the
report and subscribes to it; both pages pass axe-core (no serious or critical
violation); a librarian gets 403. Screenshots go to
``docs/img/dashboard/readers-*.png``.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm_store.models import AuditEntry
from crm_store.models.dashboard_reports import ReportSubscription
from crm_store.report_charts import render_charts
from crm_store.weekly_figures import last_full_week, weekly_figures
from tests.browser.axe import axe_violations, report
from tests.dashboard.readers_history import NAMES, add_demo_crowd, build_history
from tests.handoff_console.conftest import (  # noqa: F401 (fixtures)
    STAFF,
    ConsoleStore,
    console,
    console_store,
)
from tests.handoff_console.console_server import ConsoleServer
from worker.jobs.weekly_report import build_message

pytestmark = [pytest.mark.browser, pytest.mark.dashboard]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard"
CHARTS = ("acquisition", "first-intents", "loyalty", "scatter", "key")
SECTIONS = ("acquisition", "first-intents", "cohorts", "loyalty", "churn", "key")


@pytest.fixture(scope="module")
def demo(console: ConsoleServer, console_store: ConsoleStore) -> str:  # noqa: F811
    now = datetime.now(timezone.utc)
    add_demo_crowd(console_store.sessions, now)
    build_history(console_store.sessions, now)
    return f"http://127.0.0.1:{console.port}"


def _sign_in(page: Page, url: str, path: str, username: str) -> None:
    page.goto(f"{url}{path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(STAFF[username][2])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}{path}")


def _loaded(page: Page) -> None:
    for key in SECTIONS:
        expect(page.locator(f"#section-{key}")).to_have_attribute("data-loaded", "true")


def _download(page: Page, link: Any) -> bytes:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def _reveals(store: ConsoleStore) -> int:
    with store.sessions() as session:
        query = select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "dashboard.reveal_names"
        )
        return int(session.execute(query).scalar_one())


def test_a_manager_sees_reader_intelligence_drawn(page: Page, demo: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _sign_in(page, demo, "/dashboard/readers", "morgan")
    _loaded(page)

    for key in CHARTS:
        marks = page.locator(f"#chart-{key} svg path")
        expect(marks.first).to_be_attached()
        assert marks.count() > 3, key
    rows = page.locator('table[data-table="key"] tbody tr')
    assert rows.count() >= 1
    first = rows.first.locator("a")
    expect(first).to_have_text(re.compile(r"^R-[0-9a-f]{12}$"))
    assert re.fullmatch(r"/readers/\d+", first.get_attribute("href") or "")
    assert "Demo Reader" not in page.content()
    assert "Okafor" not in page.content()
    expect(page.locator('table[data-table="cohorts"] tbody tr')).to_have_count(12)
    expect(page.locator("#key-rules")).to_contain_text("key readers have at least 8 of 9 points")
    expect(page.locator("#readers-as-of")).to_contain_text("Reader figures as of")
    violations = axe_violations(page)
    assert violations == [], report(violations)
    page.screenshot(path=str(SHOTS / "readers-overview.png"), full_page=True)
    page.locator("#section-key").screenshot(path=str(SHOTS / "readers-key.png"))
    page.locator("#section-loyalty").screenshot(path=str(SHOTS / "readers-loyalty.png"))


def test_exports_download_as_csv_and_xlsx(page: Page, demo: str) -> None:
    _sign_in(page, demo, "/dashboard/readers", "morgan")
    _loaded(page)
    section = page.locator("#section-acquisition")

    rows = list(csv.reader(io.StringIO(_download(page, section.get_by_text("CSV")).decode())))
    sheet = load_workbook(io.BytesIO(_download(page, section.get_by_text("XLSX")))).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]

    assert rows[0][0] == "Month" and rows[0][-3:] == [
        "New readers",
        "Came back",
        "Share who came back",
    ]
    assert len(rows) == 13  # a header and 12 months
    assert [str(c) for c in cells[0]] == rows[0]
    assert [r[0] for r in cells[1:]] == [r[0] for r in rows[1:]]
    table = page.locator('table[data-table="acquisition"] tbody tr')
    assert [table.nth(i).locator("td").first.inner_text() for i in range(12)] == [
        r[0] for r in rows[1:]
    ]
    key_rows = list(
        csv.reader(
            io.StringIO(_download(page, page.locator("#section-key").get_by_text("CSV")).decode())
        )
    )
    assert key_rows[0][:3] == ["Reader", "Segment", "Score"]
    assert all(re.fullmatch(r"R-[0-9a-f]{12}", r[0]) for r in key_rows[1:])


def test_revealing_names_is_audited_and_shown_as_text(
    page: Page,
    demo: str,
    console_store: ConsoleStore,  # noqa: F811
) -> None:
    _sign_in(page, demo, "/dashboard/readers", "morgan")
    _loaded(page)
    before = _reveals(console_store)

    page.get_by_label("Show names (recorded in the audit log)").check()
    key = page.locator('table[data-table="key"]')
    expect(key).to_contain_text(NAMES["ada"])
    page.locator("#key-segment").select_option("all")
    expect(page.locator('table[data-table="key"]')).to_contain_text(NAMES["cleo"])
    # the reader's markup is text, never HTML
    expect(page.locator('table[data-table="key"] b')).to_have_count(0)
    expect(page.locator('table[data-table="churn"]')).to_contain_text(NAMES["cleo"])

    assert _reveals(console_store) >= before + 3  # churn, key, key (all)
    page.locator("#section-churn").screenshot(path=str(SHOTS / "readers-names.png"))
    xlsx = _download(page, page.locator("#section-key").get_by_text("XLSX"))
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert [c.value for c in sheet[1]][:2] == ["Reader", "Name"]
    assert _reveals(console_store) >= before + 4


def test_the_report_prints_and_can_be_subscribed(
    page: Page,
    demo: str,
    console_store: ConsoleStore,  # noqa: F811
) -> None:
    _sign_in(page, demo, "/dashboard/report", "morgan")
    images = page.locator(".report-charts img")
    expect(images).to_have_count(3)
    for n in range(3):
        image = images.nth(n)
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
    expect(page.locator("#report-table tbody tr")).to_have_count(8)
    violations = axe_violations(page)
    assert violations == [], report(violations)
    page.screenshot(path=str(SHOTS / "readers-report.png"), full_page=True)

    page.get_by_label(re.compile("Weekly report by email")).check()
    expect(page.locator("#report-subscribe-status")).to_have_text("Subscribed.")
    with console_store.sessions() as session:
        assert session.execute(select(ReportSubscription.active)).scalars().all() == [True]

    page.emulate_media(media="print")
    expect(page.locator(".dashboard-tabs")).to_be_hidden()
    expect(page.locator(".report-tools")).to_be_hidden()
    expect(page.locator("#report-table")).to_be_visible()
    page.screenshot(path=str(SHOTS / "readers-report-print.png"), full_page=True)


def test_a_librarian_gets_403(page: Page, demo: str) -> None:
    _sign_in(page, demo, "/inbox", "sam")
    for path in ("/dashboard/readers", "/dashboard/report"):
        reply = page.goto(f"{demo}{path}")
        assert reply is not None and reply.status == 403
    api = page.request.get(f"{demo}/api/dashboard/readers/key")
    assert api.status == 403


def test_the_weekly_email_renders_with_its_charts(
    page: Page,
    demo: str,
    console_store: ConsoleStore,  # noqa: F811
) -> None:
    """The mail the worker sends, as a mail client shows it: cid: images from its parts."""
    now = datetime.now(timezone.utc)
    with console_store.sessions.begin() as session:
        figures = weekly_figures(session, last_full_week(now), now)
    mail = build_message(
        figures, render_charts(figures), "morgan@example.org", "reports@example.org", "Morgan Lee"
    )
    html = mail.get_body(preferencelist=("html",)).get_content()
    for part in mail.walk():
        if part.get_content_type() == "image/png":
            data = base64.b64encode(part.get_content()).decode()
            html = html.replace(f"cid:{part['Content-ID'][1:-1]}", f"data:image/png;base64,{data}")
    assert "cid:" not in html
    page.set_content(html)
    images = page.locator("img")
    expect(images).to_have_count(3)
    for n in range(3):
        assert images.nth(n).evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("#figures tbody tr")).to_have_count(8)
    page.screenshot(path=str(SHOTS / "readers-email.png"), full_page=True)
