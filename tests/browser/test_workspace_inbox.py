"""The inbox and the supervisor view in headless Chromium.

Only the console runs here (a real ``python -m handoff_console`` on a migrated SQLite
store). Readers' conversations and handoffs are written to the store the way the
worker's ingestion and the handoff action write them; the console's live events pick
them up from there as they do in production.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest
from crm_store.repositories import open_handoff
from tests.browser.conftest import LIBRARIAN, ConsoleScene, StartScene
from tests.system import ROOT, RunningSystem

pytestmark = [pytest.mark.browser, pytest.mark.workspace]

SHOTS = ROOT / "docs" / "img" / "console"
XSS = '<img src=x onerror="window.__pwned=1">'
BOT_REPLY = "I've asked a librarian to join. Please stay here."
LIVE = 15_000


def ask(
    sessions: sessionmaker[Session], text: str, channel: str = "webchat", language: str = "en"
) -> int:
    """A reader asks ``text``, the bot answers, and the conversation waits for a librarian.

    The NLU's language guard is taken to be sure the reader writes in ``language``.
    """
    sender_id = f"reader-{uuid.uuid4().hex[:10]}"
    start = time.time() - 5
    parse = {"intent": {"name": "request_human", "confidence": 0.9},
             "language": {"code": language, "confidence": 0.95}}  # fmt: skip
    user = {"event": "user", "text": text, "timestamp": start, "input_channel": channel,
            "parse_data": parse}  # fmt: skip
    bot = {"event": "bot", "text": BOT_REPLY, "timestamp": start + 1}
    with sessions.begin() as session:
        ingest(session, [RasaEvent(sender_id, user), RasaEvent(sender_id, bot)], "test")
        handoff, _ = open_handoff(
            session, sender_id=sender_id, channel=channel, reason="reader asked"
        )
        return int(handoff.conversation_id)


@pytest.fixture
def scene(console_scene: StartScene) -> ConsoleScene:
    """A console on a store with a librarian (sam) and a manager (morgan)."""
    return console_scene(staff=[LIBRARIAN, ("morgan", "manager", "Morgan Lee")])[0]


def count(page: Page, name: str):
    return page.locator(f'[data-count="{name}"]')


def test_the_inbox_updates_live_and_shows_the_readers_question(
    page: Page, scene: ConsoleScene
) -> None:
    first = ask(scene.sessions, "Can I renew a book for my thesis?")
    scene.sign_in(page, "/inbox")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=LIVE)
    expect(count(page, "waiting")).to_have_text("1")
    expect(count(page, "bot")).to_have_text("0")
    page.evaluate("window.__marker = 'no reload'")

    second = ask(scene.sessions, f"{XSS} my card is 2123 4000 1234 56", channel="telegram")
    expect(count(page, "waiting")).to_have_text("2", timeout=LIVE)
    expect(page).to_have_title(re.compile(r"^\(2\) Inbox"))
    card = page.locator(f'.inbox-item[data-conversation-id="{second}"]')
    expect(card.locator(".inbox-question")).to_have_text(f"{XSS} my card is **********3456")
    expect(card.locator(".channel-badge")).to_have_text("Telegram")
    expect(card.locator(".inbox-wait")).to_have_text(re.compile(r"^\d+(s|m \d\ds)$"))
    expect(card).to_have_class(re.compile(r"\bis-new\b"))
    expect(page.locator("#inbox-announcer")).to_contain_text("New conversation")
    older = page.locator(".inbox-item").first
    expect(older).to_have_attribute("data-conversation-id", str(first))  # oldest first
    assert page.evaluate("window.__pwned === undefined")
    assert page.evaluate("window.__marker") == "no reload"

    # The title count is on every console page, not only the inbox.
    page.goto(f"{scene.url}/tickets")
    expect(page).to_have_title(re.compile(r"^\(2\) "), timeout=LIVE)


def test_filters_and_search_live_in_the_url(page: Page, scene: ConsoleScene) -> None:
    ask(scene.sessions, "Where is the interlibrary loan desk?")
    wanted = ask(scene.sessions, "Do you have 100% cotton tote bags?", channel="telegram")
    scene.sign_in(page, "/inbox")
    expect(count(page, "waiting")).to_have_text("2")
    page.get_by_label("Search transcripts").fill("100% cotton")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]q=100%25\+cotton"))
    expect(page.locator(".inbox-item")).to_have_count(1)
    expect(count(page, "waiting")).to_have_text("1")

    shared = f"{scene.url}/inbox?list=open&channel=telegram"
    page.goto(shared)
    expect(page.locator(".inbox-tab[aria-current=page]")).to_have_attribute("data-list", "open")
    expect(page.get_by_label("Channel")).to_have_value("telegram")
    expect(page.locator(".inbox-item")).to_have_count(1)
    expect(page.locator(".inbox-item")).to_have_attribute("data-conversation-id", str(wanted))
    page.get_by_role("link", name=re.compile("^Bot only")).click()
    expect(page).to_have_url(re.compile(r"list=bot&channel=telegram"))
    expect(page.locator("#inbox-empty")).to_be_visible()

    # The language filter, and the badge of a reader who does not write in English.
    spanish = ask(scene.sessions, "¿Dónde está el mostrador de préstamos?", language="es")
    page.goto(f"{scene.url}/inbox?list=waiting")
    expect(page.locator(".inbox-item")).to_have_count(3)
    badge = page.locator(f'.inbox-item[data-conversation-id="{spanish}"] .language-badge')
    expect(badge).to_have_text("ES")
    expect(page.locator(".language-badge:visible")).to_have_count(1)
    page.locator("#filter-more summary").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]language=es"))
    expect(page.locator(".inbox-item")).to_have_count(1)
    expect(page.locator(".inbox-item")).to_have_attribute("data-conversation-id", str(spanish))

    page.goto(f"{scene.url}/inbox?list=waiting&from=2026-13-40")
    expect(page.locator("#console-alert")).to_contain_text("YYYY-MM-DD")


def test_keyboard_shortcuts_move_claim_and_help(page: Page, scene: ConsoleScene) -> None:
    first = ask(scene.sessions, "first reader")
    second = ask(scene.sessions, "second reader")
    scene.sign_in(page, "/inbox")
    expect(count(page, "waiting")).to_have_text("2")

    # Typing in a field is never a shortcut.
    page.get_by_label("Search transcripts").press("c")
    expect(page.get_by_label("Search transcripts")).to_have_value("c")
    page.get_by_label("Search transcripts").fill("")
    page.locator("h1").click()

    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"open={first}\b"))
    expect(page.locator(".inbox-item.is-selected")).to_have_attribute(
        "data-conversation-id", str(first)
    )
    frame = page.frame_locator("#inbox-frame")
    expect(frame.locator("#conversation")).to_have_attribute("data-conversation-id", str(first))
    page.keyboard.press("j")
    expect(page.locator(".inbox-item.is-selected")).to_have_attribute(
        "data-conversation-id", str(second)
    )
    page.keyboard.press("k")
    expect(page.locator(".inbox-item.is-selected")).to_have_attribute(
        "data-conversation-id", str(first)
    )

    page.locator("h1").click()
    page.keyboard.press("c")
    expect(count(page, "mine")).to_have_text("1", timeout=LIVE)
    expect(count(page, "waiting")).to_have_text("1")
    expect(page.locator("#inbox-announcer")).to_contain_text(f"You claimed conversation {first}")

    page.locator("h1").click()
    page.keyboard.press("e")
    expect(frame.locator("#reply-text")).to_be_focused()

    page.locator("h1").click()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next waiting conversation")
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 800})
    page.screenshot(path=str(SHOTS / "inbox.png"))


def test_the_supervisor_view_is_for_managers(page: Page, scene: ConsoleScene) -> None:
    held = ask(scene.sessions, "please help")
    ask(scene.sessions, "hello?")
    scene.sign_in(page, "/inbox")
    page.goto(f"{scene.url}/inbox?list=waiting&open={held}")
    expect(page.locator(".inbox-item.is-selected")).to_have_count(1)
    page.locator("h1").click()
    page.keyboard.press("c")
    expect(count(page, "mine")).to_have_text("1", timeout=LIVE)
    expect(page.get_by_role("link", name="Supervisor")).to_have_count(0)
    refused = page.goto(f"{scene.url}/supervisor")
    assert refused is not None and refused.status == 403
    # A real page, not raw JSON: the console's header, the error and a way back.
    expect(page.locator("h1")).to_have_text("Managers and admins only")
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()

    page.context.clear_cookies()
    scene.sign_in(page, "/supervisor", "morgan")
    expect(page.locator("#figure-waiting")).to_have_text("1")
    expect(page.locator("#figure-claimed")).to_have_text("1")
    expect(page.locator("#figure-oldest")).to_have_text(re.compile(r"^\d+(s|m \d\ds)$"))
    sam = page.locator("#staff-rows tr", has_text="Sam Reyes")
    expect(sam).to_contain_text("1 of 3")
    expect(sam.get_by_role("link", name=f"#{held}")).to_have_attribute(
        "href", f"/inbox?list=open&open={held}"
    )
    ask(scene.sessions, "one more")
    expect(page.locator("#figure-waiting")).to_have_text("2", timeout=LIVE)
    page.set_viewport_size({"width": 1366, "height": 700})
    page.screenshot(path=str(SHOTS / "supervisor.png"))


# -- against the whole system: a real reader in the widget, Rasa and the action server --

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
QUESTION = "can I talk to a librarian please about <b>interlibrary</b> loans"


@pytest.fixture
def system_librarian(system: RunningSystem) -> tuple[str, str]:
    """A librarian account made with the admin CLI: (username, password)."""
    username = f"inbox-{uuid.uuid4().hex[:6]}"
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "RIC_DATABASE_URL": system.database_url, "RIC_ADMIN_PASSWORD": password}
    result = subprocess.run(
        [
            sys.executable, "-m", "handoff_console.admin", "create-user",
            "--username", username, "--role", "librarian", "--display-name", "Ines Park",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return username, password


@pytest.mark.rasa
def test_a_reader_asking_in_the_widget_reaches_the_inbox_live(
    browser: Browser, system: RunningSystem, system_librarian: tuple[str, str]
) -> None:
    librarian_context = browser.new_context(viewport={"width": 1366, "height": 900})
    reader_context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    try:
        librarian, reader = librarian_context.new_page(), reader_context.new_page()
        for tab in (librarian, reader):
            tab.on("pageerror", lambda error: errors.append(str(error)))
        librarian.goto(f"{system.console_url}/inbox")
        librarian.get_by_label("User name").fill(system_librarian[0])
        librarian.get_by_label("Password").fill(system_librarian[1])
        librarian.get_by_role("button", name="Sign in").click()
        expect(librarian.locator("#live-status")).to_have_text("Live", timeout=LIVE)
        expect(count(librarian, "waiting")).not_to_have_text("…")
        before = int(count(librarian, "waiting").inner_text())

        reader.goto(f"{system.console_url}/demo")
        reader.locator(f"{W} .ric-launcher").click()
        reader.locator(f"{W} textarea").fill(QUESTION)
        reader.keyboard.press("Enter")
        expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
            "asked a librarian", timeout=30_000
        )
        session_id = reader.evaluate("RicWebchat.sessionId()")

        card = librarian.locator(f'.inbox-item[data-sender-id="{session_id}"]')
        expect(card).to_have_count(1, timeout=LIVE)
        expect(card.locator(".inbox-question")).to_have_text(QUESTION)
        expect(card.locator(".channel-badge")).to_have_text("Web chat")
        expect(count(librarian, "waiting")).to_have_text(str(before + 1))
        expect(librarian).to_have_title(re.compile(rf"^\({before + 1}\) Inbox"))

        card.locator("a").click()
        librarian.locator("h1").click()
        librarian.keyboard.press("c")
        expect(count(librarian, "mine")).to_have_text("1", timeout=LIVE)
        frame = librarian.frame_locator("#inbox-frame")
        expect(frame.locator("#conversation-status")).to_contain_text("Ines Park", timeout=LIVE)
    finally:
        librarian_context.close()
        reader_context.close()
    assert errors == []
