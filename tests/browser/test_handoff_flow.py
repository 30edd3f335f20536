"""A reader asks for a librarian in the widget; a librarian answers from the console.

Two browser contexts against the real system (Rasa, action server, console, worker):
the reader on the demo library page, the librarian signed in to the console.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.system import ROOT, RunningSystem

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
BOT_TIMEOUT = 30_000
LIVE_TIMEOUT = 20_000

REPLY = "Hello, I'm Sam from the reference desk <b>hi</b>"
ANSWER = "thanks, I need a book on birds <img src=x onerror=alert(1)>"


@dataclass
class Tab:
    """A page in its own browser context, recording page errors and dialogs."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_tab(browser: Browser, width: int = 1280) -> Tab:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    tab = Tab(context, page)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    return tab


@pytest.fixture
def console_librarian(system: RunningSystem) -> tuple[str, str]:
    """A librarian account made with the admin CLI, as an operator would: (username, password)."""
    username = f"sam-{uuid.uuid4().hex[:6]}"
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "RIC_DATABASE_URL": system.database_url, "RIC_ADMIN_PASSWORD": password}
    result = subprocess.run(
        [
            sys.executable, "-m", "handoff_console.admin", "create-user",
            "--username", username, "--role", "librarian", "--display-name", "Sam Reyes",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return username, password


@pytest.fixture
def console_tabs(browser: Browser) -> Iterator[tuple[Tab, Tab]]:
    """(reader, librarian) tabs in separate contexts; neither may raise a page error."""
    reader, librarian = open_tab(browser), open_tab(browser)
    yield reader, librarian
    reader.context.close()
    librarian.context.close()
    assert reader.errors == []
    assert librarian.errors == []


def sign_in(page: Page, system: RunningSystem, username: str, password: str) -> None:
    page.goto(f"{system.console_url}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{system.console_url}/queue")


def test_reader_and_librarian_chat_through_a_handoff(
    system: RunningSystem,
    console_librarian: tuple[str, str],
    console_tabs: tuple[Tab, Tab],
) -> None:
    reader_tab, librarian_tab = console_tabs
    reader, librarian = reader_tab.page, librarian_tab.page

    # The librarian watches the queue before anyone asks.
    sign_in(librarian, system, *console_librarian)
    expect(librarian.locator("#live-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    expect(librarian.locator("#queue-summary")).to_contain_text("waiting")
    librarian.evaluate("window.__consoleMarker = 'loaded once'")

    # The reader asks for a librarian in the widget.
    reader.goto(f"{system.console_url}/demo")
    expect(reader.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    reader.locator(f"{W} .ric-launcher").click()
    reader.locator(f"{W} textarea").fill("can I talk to a librarian please")
    reader.keyboard.press("Enter")
    expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "asked a librarian", timeout=BOT_TIMEOUT
    )
    session_id = reader.evaluate("RicWebchat.sessionId()")

    # It arrives in the queue live: highlighted, announced, counted in the title.
    item = librarian.locator(f'#queue-list .queue-item[data-sender-id="{session_id}"]')
    expect(item).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(item).to_have_attribute("data-status", "waiting")
    expect(item).to_have_class(re.compile(r"\bis-new\b"))
    expect(item.locator(".queue-reader")).to_have_text("Anonymous reader")
    expect(item.locator(".channel-badge")).to_have_text("Web chat")
    expect(item.locator(".queue-reason")).to_have_text("reader asked for a librarian")
    expect(item.locator(".queue-last")).not_to_be_empty()
    expect(item.locator(".queue-wait")).to_have_text(re.compile(r"^\d+(s|m \d\ds)$"))
    expect(librarian.locator("#queue-announcer")).to_contain_text("New conversation")
    expect(librarian).to_have_title(re.compile(r"^\(\d+\) Queue"))
    assert librarian.evaluate("window.__consoleMarker") == "loaded once"  # no reload

    # Claim it and reply; the markup is text on both sides.
    item.get_by_role("button", name=re.compile("^Claim")).click()
    expect(librarian).to_have_url(re.compile(r"/conversations/\d+$"))
    transcript = librarian.locator("#transcript")
    expect(transcript.locator(".msg-reader .msg-text").first).to_have_text(
        "can I talk to a librarian please", timeout=LIVE_TIMEOUT
    )
    expect(librarian.locator("#conversation-handoff")).to_contain_text("Claimed by Sam Reyes")
    # Notes are a mode of the reply box (issue 15): the label says the reader never sees them.
    librarian.locator("#mode-note").check()
    expect(librarian.locator("#reply-label")).to_contain_text("the reader never sees it")
    librarian.locator("#mode-reply").check()
    expect(librarian.locator("#reply-label")).to_have_text("Reply to the reader")
    expect(librarian.locator("#reader-profile")).to_contain_text("Anonymous reader")
    expect(librarian.locator("#reader-profile")).to_contain_text(session_id)
    librarian.locator("#reply-text").fill(REPLY)
    librarian.keyboard.press("Enter")
    expect(reader.locator(f"{W} .ric-librarian .ric-text")).to_have_text(
        REPLY, timeout=LIVE_TIMEOUT
    )
    expect(reader.locator(f"{W} .ric-librarian .ric-sender")).to_contain_text("Sam Reyes")
    assert reader.locator(f"{W} .ric-log b").count() == 0

    # The reader answers; the librarian sees it live, as text.
    reader.locator(f"{W} textarea").fill(ANSWER)
    reader.keyboard.press("Enter")
    expect(transcript.locator(".msg-reader .msg-text").last).to_have_text(
        ANSWER, timeout=LIVE_TIMEOUT
    )
    expect(transcript.locator(".msg-librarian .msg-text")).to_have_text([REPLY])
    expect(transcript.locator('.msg-local[data-state="failed"]')).to_have_count(0)
    assert transcript.locator("img").count() == 0
    assert transcript.locator("b").count() == 0

    # Resolve: the bot takes the conversation back and says so.
    bots_before = reader.locator(f"{W} .ric-bot").count()
    librarian.locator("#resolve-details summary").click()
    librarian.get_by_label("Resolution note").fill("Pointed the reader to the bird guides.")
    librarian.get_by_label("Tags").fill("catalogue, birds")
    librarian.get_by_role("button", name=re.compile("^Resolve")).click()
    # The reader's answer came after the reply: the console asks before resolving.
    librarian.get_by_role("button", name="Resolve anyway").click()
    expect(librarian.locator("#conversation-status")).to_have_text("Resolved", timeout=LIVE_TIMEOUT)
    expect(librarian.locator("#reopen-button")).to_be_visible()
    expect(reader.locator(f"{W} .ric-bot")).to_have_count(bots_before + 1, timeout=BOT_TIMEOUT)
    expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        re.compile(r"I.m back", re.IGNORECASE)
    )
    assert reader_tab.dialogs == []
    assert librarian_tab.dialogs == []


def test_console_pages_need_a_sign_in(browser: Browser, system: RunningSystem) -> None:
    tab = open_tab(browser)
    for path in ("/queue", "/conversations/1", "/tickets", "/canned"):
        tab.page.goto(f"{system.console_url}{path}")
        expect(tab.page).to_have_url(re.compile(r"/login\?next="))
    tab.context.close()


def test_console_pages_fit_a_phone_and_sound_is_opt_in(
    browser: Browser, system: RunningSystem, console_librarian: tuple[str, str]
) -> None:
    tab = open_tab(browser, width=360)
    page = tab.page
    sign_in(page, system, *console_librarian)
    expect(page.locator("#live-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    toggle = page.get_by_role("button", name="Enable sound")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#sound-toggle")).to_have_text("Sound on")
    for path in ("/queue", "/tickets", "/canned"):
        page.goto(f"{system.console_url}{path}")
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, path
    tab.context.close()
    assert tab.errors == []


def test_canned_reply_markup_is_listed_as_text(
    browser: Browser, system: RunningSystem, console_librarian: tuple[str, str]
) -> None:
    tab = open_tab(browser)
    page = tab.page
    sign_in(page, system, *console_librarian)
    page.goto(f"{system.console_url}/canned")
    title = f"Opening <i>hours</i> {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Text", exact=True).fill("Hi {reader_name}, we open at 9 <script>x</script>")
    page.get_by_role("button", name="Save canned reply").click()
    expect(page.locator("#canned-status")).to_contain_text("Saved")
    item = page.locator("#canned-list .canned-item", has_text=title)
    expect(item).to_have_count(1)
    expect(item.locator(".canned-body")).to_have_text(
        "Hi {reader_name}, we open at 9 <script>x</script>"
    )
    assert page.locator("#canned-list i, #canned-list script").count() == 0
    tab.context.close()
    assert tab.errors == []
    assert tab.dialogs == []


def test_navigation_shows_who_is_signed_in_and_signs_out(
    system: RunningSystem,
    console_librarian: tuple[str, str],
    console_tabs: tuple[Tab, Tab],
) -> None:
    page = console_tabs[1].page
    page.goto(f"{system.console_url}/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, system, *console_librarian)
    expect(nav).to_contain_text("Signed in as Sam Reyes (librarian)")
    expect(nav.get_by_role("link", name="Sign in")).to_have_count(0)
    page.goto(f"{system.console_url}/")  # pages open to everyone know the session too
    expect(nav).to_contain_text("Signed in as Sam Reyes")

    nav.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{system.console_url}/login")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"{system.console_url}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
