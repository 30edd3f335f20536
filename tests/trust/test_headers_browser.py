"""Every console page and the widget satisfy their Content-Security-Policy in Chromium.

An admin, a manager and a librarian each visit every GET page route of the console app
(enumerated from its router, so a page added later is crawled too), with real ids from
the running system where a route takes one: pages differ by role, and the pages a role
may not open show the error page, which is crawled too. Every page's policy has no
``'unsafe-inline'`` at all (styles come from static files as much as scripts do). Then
the demo page, where the widget loads from the Rasa server and a reader chats. Each
document records ``securitypolicyviolation`` events from its first script on, and the
browser console is watched for CSP errors: there must be none. A page on a site that
is not an allowed origin embeds the widget, which says it is unavailable. The
dashboard's charts, drawn and hovered, are in ``test_headers_charts.py``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.models import Reader
from handoff_console.accounts import create_staff
from tests.aio import run as aio_run
from tests.browser.test_widget import W, open_chat, send
from tests.live_console import conversation_id, handoff_in_widget
from tests.system import ROOT, RunningSystem
from tests.trust.test_headers import console_get_routes

pytestmark = [pytest.mark.trust, pytest.mark.browser, pytest.mark.rasa]

SHOTS = ROOT / "docs" / "img" / "trust"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || location.href}:${e.lineNumber}`);
});
"""
NOT_PAGES = re.compile(r"^/(api/|static/|healthz$|webhooks/)")


class CspWatch:
    """Violations and console CSP errors of one browser context, by page."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.errors: list[str] = []
        context.add_init_script(RECORD_VIOLATIONS)

    def page(self) -> Page:
        page = self.context.new_page()
        page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text
                else None
            ),
        )
        return page

    @staticmethod
    def violations(page: Page) -> list[str]:
        found: list[str] = []
        for frame in page.frames:
            if frame.url.startswith("http"):
                found += frame.evaluate("() => window.__cspViolations || []")
        return found


def signed_in(browser: Browser, system: RunningSystem, role: str) -> BrowserContext:
    """A browser context signed in to the running console as a new staff member."""
    sessions = make_session_factory(make_engine(system.database_url))
    username, password = f"csp{uuid.uuid4().hex[:6]}", "csp-crawl-passphrase-1"
    with sessions.begin() as session:
        create_staff(
            session, username=username, password=password, role=role, display_name="Cris P"
        )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    reply = context.request.post(
        f"{system.console_url}/api/auth/login", data={"username": username, "password": password}
    )
    assert reply.status == 200
    return context


@pytest.fixture(scope="module")
def admin_context(browser: Browser, system: RunningSystem) -> Iterator[BrowserContext]:
    """A browser context signed in to the running console as a new admin."""
    context = signed_in(browser, system, "admin")
    yield context
    context.close()


@pytest.fixture(scope="module")
def ids(system: RunningSystem) -> dict[str, int]:
    """Real record ids for route parameters: a conversation handed off from the widget,
    and a reader."""

    async def handoff() -> str:
        widget = await handoff_in_widget(system)
        await widget.close()
        assert widget.session_id
        return widget.session_id

    sessions = make_session_factory(make_engine(system.database_url))
    conversation = conversation_id(sessions, aio_run(handoff()))

    with sessions() as session:  # a seeded demo reader
        reader = session.execute(select(Reader.id).order_by(Reader.id).limit(1)).scalar_one()

    return {"conversation_id": conversation, "reader_id": int(reader)}


def crawl(context: BrowserContext, system: RunningSystem, ids: dict[str, int]) -> list[str]:
    """Visit every console page in ``context``; returns them as ``"<url> <status>"``.

    Fails on any CSP violation or console CSP error, and on any page whose policy allows
    inline code or styles (``'unsafe-inline'``, ``'unsafe-eval'``).
    """
    watch = CspWatch(context)
    pages = [uri for uri in console_get_routes() if not NOT_PAGES.match(uri)]
    assert {"/", "/inbox", "/login", "/demo", "/dashboard", "/studio"} <= set(pages)
    violations: dict[str, list[str]] = {}
    lax: dict[str, str] = {}
    visited = []
    page = watch.page()
    for uri in pages:
        url = re.sub(r"<([^:>]+)(?::[^>]+)?>", lambda m: str(ids.get(m.group(1), 1)), uri)
        reply = page.goto(f"{system.console_url}{url}", wait_until="load")
        assert reply is not None
        if "text/html" not in reply.headers.get("content-type", ""):
            continue
        policy = reply.headers.get("content-security-policy", "")
        if "'unsafe-" in policy or "style-src 'self';" not in policy:
            lax[url] = policy
        page.wait_for_timeout(400)  # let the page's scripts run and fetch
        visited.append(f"{url} {reply.status}")
        if found := watch.violations(page):
            violations[url] = found
    page.close()
    print("\ncrawled:", ", ".join(visited))
    assert lax == {}
    assert violations == {}
    assert watch.errors == []
    return visited


def test_every_console_page_satisfies_its_policy(
    admin_context: BrowserContext, system: RunningSystem, ids: dict[str, int]
) -> None:
    visited = crawl(admin_context, system, ids)
    assert len(visited) >= 8
    # The admin's crawl reaches the dashboard and the studio, not their refusal pages.
    assert {"/dashboard 200", "/dashboard/charts 200", "/studio 200", "/studio/models 200"} <= set(
        visited
    )


@pytest.mark.parametrize("role", ["manager", "librarian"])
def test_every_page_satisfies_its_policy_for_managers_and_librarians(
    browser: Browser, system: RunningSystem, ids: dict[str, int], role: str
) -> None:
    context = signed_in(browser, system, role)
    try:
        visited = crawl(context, system, ids)
    finally:
        context.close()
    # A manager's dashboard and supervisor pages; a librarian's refusal page instead.
    own = {"/dashboard 200", "/supervisor 200"} if role == "manager" else {"/supervisor 403"}
    assert {"/inbox 200", "/queue 200", "/readers 200", "/studio 403", *own} <= set(visited)


def test_the_widget_on_the_demo_page_satisfies_the_policy(
    admin_context: BrowserContext, system: RunningSystem
) -> None:
    watch = CspWatch(admin_context)
    page = watch.page()
    open_chat(page, system)
    send(page, "what are your opening hours")
    expect(page.locator(f"{W} .ric-bot .ric-text").first).to_be_visible(timeout=20_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo-widget-under-csp.png"))
    assert watch.violations(page) == []
    assert watch.errors == []


def test_a_site_that_is_not_allowed_sees_the_chat_is_unavailable(
    browser: Browser,
    system: RunningSystem,
) -> None:
    # The demo page under another name: http://127.0.0.1:<port> is not the allowed
    # http://localhost:<port>, and stays on loopback (Chromium keeps public pages from
    # loading scripts from loopback at all).
    context = browser.new_context(viewport={"width": 800, "height": 700})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{system.console_port}/demo")
        expect(page.locator(f"{W} .ric-status")).to_have_text(
            "Chat unavailable on this website", timeout=15_000
        )
        page.locator(f"{W} .ric-launcher").click()
        error = page.locator(f'{W} [data-code="origin_refused"]')
        expect(error).to_contain_text("may not use the library's chat")
        expect(page.locator(f"{W} textarea")).to_be_disabled()
        expect(page.locator(f"{W} .ric-send")).to_be_disabled()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-refused-origin.png"))
    finally:
        context.close()


def test_screenshots_are_where_the_docs_link_them() -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    for name in (
        "demo-widget-under-csp.png",
        "widget-refused-origin.png",
        "chart-tooltip-under-csp.png",  # by test_headers_charts.py
    ):
        assert f"img/trust/{name}" in doc
        assert Path(SHOTS / name).exists()
