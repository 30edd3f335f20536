"""axe-core on every console page and on the widget: no serious or critical violation.

The console pages run against a console alone (a real ``python -m handoff_console`` on
a migrated SQLite store with a waiting conversation, a verified reader, a note, a
ticket and canned replies); the widget runs against the whole system, since Rasa
serves it. Each page is checked once its script has filled it in (and the page in its
frame, for the inbox with a conversation open).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import CannedResponse, Note
from crm_store.repositories import create_ticket, link_verified_reader, open_handoff
from handoff_console.accounts import create_staff
from tests.browser.axe import axe_violations, report
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.live_console import conversation_id
from tests.system import RunningSystem

pytestmark = [pytest.mark.workspace, pytest.mark.browser]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
ACCOUNTS = {  # role: (user name, display name, password); throw-away stores only
    "librarian": ("sam", "Sam Reyes", "sam-correct-horse-battery"),
    "manager": ("morgan", "Morgan Lee", "morgan-manager-passphrase"),
}
READY = """() => {
  const main = document.querySelector("main");
  const live = document.querySelector("#live-status");
  return main !== null && !/loading/i.test(main.innerText)
    && (live === null || live.dataset.state === "live");
}"""
"""A page is ready when its script has replaced every "Loading…" and its live feed is up."""


@dataclass
class Desk:
    """A console with one of everything a librarian looks at, and signed-in browsers."""

    console: ConsoleServer
    url: str
    conversation: int
    reader: int
    contexts: dict[str, BrowserContext] = field(default_factory=dict)


def _event(sender_id: str, kind: str, text: str, at: float) -> RasaEvent:
    body: dict[str, object] = {"event": kind, "text": text, "timestamp": at}
    if kind == "user":
        body["input_channel"] = "webchat"
        body["parse_data"] = {"intent": {"name": "request_human", "confidence": 0.9}}
    return RasaEvent(sender_id, body)


def _seed(url: str) -> tuple[int, int]:
    sessions = make_session_factory(make_engine(url))
    start = time.time() - 120
    with sessions.begin() as session:
        staff = {
            role: create_staff(
                session, username=user, password=password, role=role, display_name=name
            )
            for role, (user, name, password) in ACCOUNTS.items()
        }
        ingest(
            session,
            [
                _event("web-ada", "user", "hello", start),
                _event("web-ada", "bot", "Hi! I'm the library assistant.", start + 1),
                _event("web-ada", "user", "Can I renew <b>Birds of Europe</b>?", start + 2),
                _event("web-ada", "user", "I'd like to talk to a librarian", start + 3),
            ],
            "test",
        )
        handoff, _ = open_handoff(
            session, sender_id="web-ada", channel="webchat", reason="reader asked"
        )
        reader = link_verified_reader(
            session,
            channel="webchat",
            external_id="web-ada",
            card_number="21234000123456",
            name="Ada Okafor",
            email="ada.okafor@example.org",
        )
        session.add(
            Note(
                conversation_id=handoff.conversation_id,
                staff_user_id=staff["librarian"].id,
                body="Asked about renewals last week too.",
            )
        )
        create_ticket(
            session,
            sender_id="tg-mei",
            channel="telegram",
            subject="Lost library card",
            body="I lost my card on the bus; can you block it?",
            contact="mei.lin@example.org",
        )
        session.add_all(
            [
                CannedResponse(
                    title="Greeting",
                    body="Hello {first_name}, this is {librarian_name}. How can I help?",
                    shortcut="hi",
                ),
                CannedResponse(
                    title="Renewal limit",
                    body="A loan can be renewed three times.",
                    shortcut="renew",
                ),
            ]
        )
        session.flush()
        ids = int(handoff.conversation_id), int(reader.id)
    sessions.kw["bind"].dispose()
    return ids


def _signed_in(browser: Browser, desk: Desk, role: str) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    user, _, password = ACCOUNTS[role]
    reply = context.request.post(
        f"{desk.url}/api/auth/login", data={"username": user, "password": password}
    )
    assert reply.status == 200, reply.text()
    return context


@pytest.fixture(scope="module")
def desk(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The seeded console, with a signed-out, a librarian's and a manager's browser context."""
    directory = tmp_path_factory.mktemp("a11y")
    url = f"sqlite:///{directory / 'crm.db'}"
    upgrade(url)
    conversation, reader = _seed(url)
    console = start_console(url, directory / "console.log")
    desk = Desk(console, f"http://127.0.0.1:{console.port}", conversation, reader)
    try:
        desk.contexts["anonymous"] = browser.new_context(viewport={"width": 1366, "height": 900})
        for role in ACCOUNTS:
            desk.contexts[role] = _signed_in(browser, desk, role)
        yield desk
    finally:
        for context in desk.contexts.values():
            context.close()
        console.stop()


@dataclass(frozen=True)
class ConsolePage:
    """A console page to check: its path (``{conversation}``, ``{reader}`` filled in)."""

    name: str
    path: str
    role: str = "librarian"
    status: int = 200
    frame: str | None = None  # an iframe whose page must be ready too


CONSOLE_PAGES = (
    ConsolePage("login", "/login", role="anonymous"),
    ConsolePage("status", "/"),
    ConsolePage("inbox", "/inbox"),
    ConsolePage("inbox-conversation", "/inbox?open={conversation}", frame="#inbox-frame"),
    ConsolePage("queue", "/queue"),
    ConsolePage("conversation", "/conversations/{conversation}"),
    ConsolePage("tickets", "/tickets"),
    ConsolePage("canned", "/canned"),
    ConsolePage("readers", "/readers"),
    ConsolePage("reader", "/readers/{reader}"),
    ConsolePage("supervisor", "/supervisor", role="manager"),
    ConsolePage("not-found", "/no-such-page", status=404),
)


@pytest.mark.parametrize("spec", CONSOLE_PAGES, ids=[p.name for p in CONSOLE_PAGES])
def test_console_page_has_no_serious_or_critical_axe_violation(
    desk: Desk, spec: ConsolePage
) -> None:
    page = desk.contexts[spec.role].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        path = spec.path.format(conversation=desk.conversation, reader=desk.reader)
        reply = page.goto(f"{desk.url}{path}")
        assert reply is not None
        assert reply.status == spec.status
        page.wait_for_function(READY, timeout=15_000)
        if spec.frame is not None:
            frame = page.wait_for_selector(f"{spec.frame}[src]:not([hidden])").content_frame()
            assert frame is not None
            frame.wait_for_function(READY, timeout=15_000)
        violations = axe_violations(page)
        assert violations == [], report(violations)
        assert errors == []
    finally:
        page.close()


def test_the_axe_helper_reports_serious_and_critical_violations(page: Page) -> None:
    pages = {
        "/": '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<img src="data:,"><button></button><p style="color:#bbb;background:#fff">faint</p>'
        '<iframe title="Inner" src="/inner"></iframe></main></body></html>',
        "/inner": '<!doctype html><html lang="en"><head><title>f</title></head><body><main>'
        '<input type="text"></main></body></html>',
    }
    # Served by Playwright itself: axe talks to a frame only within one http(s) origin.
    page.route(
        "http://a11y.test/**",
        lambda route: route.fulfill(
            content_type="text/html", body=pages[route.request.url.removeprefix("http://a11y.test")]
        ),
    )
    page.goto("http://a11y.test/")
    found = {(v.rule, v.impact, v.targets) for v in axe_violations(page)}
    assert found == {
        ("image-alt", "critical", ("img",)),
        ("button-name", "critical", ("button",)),
        ("color-contrast", "serious", ("p",)),
        ("label", "critical", ("iframe >>> input",)),  # inside the frame
    }


def _check(page: Page, when: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{when}:\n{report(violations)}"


@pytest.mark.rasa
def test_a_live_handoff_has_no_serious_or_critical_axe_violation(
    browser: Browser, page: Page, system: RunningSystem
) -> None:
    page.goto(f"{system.console_url}/demo")
    expect(page.locator(f"{W} .ric-launcher")).to_be_visible(timeout=15_000)
    _check(page, "the demo page with the closed widget")

    page.locator(f"{W} .ric-launcher").click()
    expect(page.locator(f"{W} [role=dialog]")).to_be_visible()
    _check(page, "the open widget")

    page.locator(f"{W} textarea").fill("I'd like to talk to a librarian please")
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "asked a librarian", timeout=30_000
    )
    _check(page, "the widget after a handoff")

    # A librarian takes the conversation and answers: the widget shows the reply, and
    # the librarian's conversation page is in the state a working day is spent in.
    sessions = make_session_factory(make_engine(system.database_url))
    user, password = f"a11y-{uuid.uuid4().hex[:6]}", "a11y-librarian-passphrase"
    with sessions.begin() as session:
        create_staff(session, username=user, password=password, display_name="Sam Reyes")
    conversation = conversation_id(sessions, page.evaluate("RicWebchat.sessionId()"))
    sessions.kw["bind"].dispose()
    librarian = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        api = librarian.request
        login = api.post(
            f"{system.console_url}/api/auth/login", data={"username": user, "password": password}
        )
        assert login.status == 200, login.text()
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        base = f"{system.console_url}/api/conversations/{conversation}"
        claim = api.post(f"{base}/claim", headers=csrf, data={})
        assert claim.status == 200, claim.text()
        reply = api.post(f"{base}/messages", headers=csrf, data={"text": "Hello, I'm Sam."})
        assert reply.status == 201, reply.text()
        expect(page.locator(f"{W} .ric-librarian .ric-text")).to_have_text(
            "Hello, I'm Sam.", timeout=20_000
        )
        _check(page, "the widget with a librarian's reply")

        console = librarian.new_page()
        console.goto(f"{system.console_url}/conversations/{conversation}")
        console.wait_for_function(READY, timeout=15_000)
        expect(console.locator("#transcript .msg-librarian .msg-text")).to_have_text(
            ["Hello, I'm Sam."]
        )
        _check(console, "the claimed conversation page")
    finally:
        librarian.close()
