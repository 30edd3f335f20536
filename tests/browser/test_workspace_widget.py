"""The reader's side of a handoff, in the widget, against the real system.

Rasa, the action server, the console and the worker run as ``python -m launcher up``
starts them; the librarian acts through the console API, the reader in Chromium. The
widget learns everything from its own channel, which reads the reader store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from crm_store import clock
from crm_store.models import StaffUser
from tests.live_console import LiveLibrarian, conversation_id, live_librarian
from tests.system import RunningSystem
from worker.jobs.surveys import run_surveys

pytestmark = [pytest.mark.workspace, pytest.mark.browser, pytest.mark.rasa]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
BOT_TIMEOUT = 30_000
LIVE_TIMEOUT = 20_000  # a few rounds of RIC_WEBCHAT_HANDOFF_POLL_SECONDS
OFFLINE = "Librarians offline — the assistant can help, and a librarian will reply later"
ADA_CARD, ADA_PIN = "21234000123456", "4821"
SHOTS = Path(os.environ["RIC_SCREENSHOT_DIR"]) if os.environ.get("RIC_SCREENSHOT_DIR") else None


def shot(page: Page, name: str) -> None:
    """Save the widget panel as a PNG when ``RIC_SCREENSHOT_DIR`` is set (for the docs)."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(f"{W} .ric-panel").screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def reader_pages(browser: Browser) -> Iterator[list[Page]]:
    """Two readers, each in their own context; neither may raise a page error."""
    contexts = [browser.new_context(viewport={"width": 900, "height": 760}) for _ in range(2)]
    errors: list[str] = []
    pages = []
    for context in contexts:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        pages.append(page)
    yield pages
    for context in contexts:
        context.close()
    assert errors == []


@pytest.fixture
def sam(system: RunningSystem) -> Iterator[LiveLibrarian]:
    """Sam Reyes, a librarian with a console API token; everyone is away at the start."""
    librarian = live_librarian(system, "Sam Reyes", "wsam")
    with librarian.sessions.begin() as session:
        session.execute(update(StaffUser).values(presence="away"))
    yield librarian
    with librarian.sessions.begin() as session:
        session.execute(update(StaffUser).values(presence="away"))


def open_widget(page: Page, system: RunningSystem) -> None:
    page.goto(f"{system.console_url}/demo")
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    page.evaluate("RicWebchat.open()")


def ask_for_a_librarian(page: Page) -> None:
    page.locator(f"{W} textarea").fill("can I talk to a librarian please")
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "asked a librarian to join", timeout=BOT_TIMEOUT
    )


def sender_of(page: Page) -> str:
    sender = page.evaluate("RicWebchat.sessionId()")
    assert isinstance(sender, str)
    return sender


def test_greeting_topics_and_availability(
    reader_pages: list[Page], system: RunningSystem, sam: LiveLibrarian
) -> None:
    page = reader_pages[0]
    open_widget(page, system)
    expect(page.locator(f"{W} .ric-status")).to_have_text(OFFLINE, timeout=LIVE_TIMEOUT)
    opening = page.locator(f"{W} .ric-opening")
    expect(opening.locator(".ric-text")).to_have_text(
        "Hi! I'm the Riverbend Library assistant. Ask me anything about the library, "
        "or pick a topic below."
    )
    topics = page.locator(f"{W} .ric-topic")
    expect(topics).to_have_text(
        ["When are you open today?", "Renew my loans", "Find a book", "Talk to a librarian"]
    )
    shot(page, "widget-greeting")

    # A librarian comes online: the header says so without a reload.
    with sam.sessions.begin() as session:
        session.execute(
            update(StaffUser).where(StaffUser.id == sam.staff_id).values(presence="online")
        )
    expect(page.locator(f"{W} .ric-status")).to_have_text(
        "Librarians available", timeout=LIVE_TIMEOUT
    )

    topics.first.click()
    expect(page.locator(f"{W} .ric-reader .ric-text")).to_have_text(["When are you open today?"])
    expect(page.locator(f"{W} .ric-bot")).to_have_count(1, timeout=BOT_TIMEOUT)
    expect(topics.first).to_be_disabled()

    # A conversation that has begun reopens without the greeting.
    page.reload()
    page.evaluate("RicWebchat.open()")
    expect(page.locator(f"{W} .ric-reader .ric-text")).to_have_text(["When are you open today?"])
    expect(page.locator(f"{W} .ric-opening")).to_have_count(0)


def test_the_reader_sees_the_queue_the_join_the_typing_and_the_leave(
    reader_pages: list[Page],
    system: RunningSystem,
    sam: LiveLibrarian,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ahead, reader = reader_pages
    open_widget(ahead, system)
    ask_for_a_librarian(ahead)
    strip = ahead.locator(f"{W} .ric-queue")
    expect(strip).to_have_text(re.compile(r"^You(?:'re next| are number \d+) in the queue \(.+\)$"))
    open_widget(reader, system)
    ask_for_a_librarian(reader)
    queue = reader.locator(f"{W} .ric-queue")
    expect(queue).to_have_text(re.compile(r"^You are number \d+ in the queue \(.+\)$"))
    before = int(re.findall(r"number (\d+)", queue.inner_text())[0])
    shot(reader, "widget-queue")

    # The chat ahead is claimed and resolved: the reader moves up without a reload.
    ahead_id = conversation_id(sam.sessions, sender_of(ahead))
    assert sam.api.post(f"/api/conversations/{ahead_id}/claim").status == 200
    expect(ahead.locator(f"{W} .ric-system")).to_have_text(
        ["Sam (librarian) joined"], timeout=LIVE_TIMEOUT
    )
    expect(strip).to_have_text("You're chatting with Sam (librarian)")
    resolved = sam.api.post(f"/api/conversations/{ahead_id}/resolve", {"note": "done"})
    assert resolved.status == 200, resolved.text
    moved = "You're next in the queue" if before == 2 else f"You are number {before - 1} in the"
    expect(queue).to_contain_text(moved, timeout=LIVE_TIMEOUT)

    # Sam joins the reader's chat, answers, and leaves.
    reader_id = conversation_id(sam.sessions, sender_of(reader))
    assert sam.api.post(f"/api/conversations/{reader_id}/claim").status == 200
    lines = reader.locator(f"{W} .ric-system")
    expect(lines).to_have_text(["Sam (librarian) joined"], timeout=LIVE_TIMEOUT)
    expect(queue).to_have_text("You're chatting with Sam (librarian)")
    shot(reader, "widget-joined")
    # Sam types: the reader sees it; Sam stops: it goes.
    typing = reader.locator(f"{W} .ric-typing")
    assert sam.api.post(f"/api/conversations/{reader_id}/typing", {"on": True}).status == 200
    expect(typing).to_have_text("Sam is typing…", timeout=LIVE_TIMEOUT)
    assert sam.api.post(f"/api/conversations/{reader_id}/typing", {"on": False}).status == 200
    expect(typing).to_be_hidden(timeout=LIVE_TIMEOUT)
    resolved = sam.api.post(f"/api/conversations/{reader_id}/resolve", {"note": "done"})
    assert resolved.status == 200, resolved.text
    expect(lines).to_have_text(
        ["Sam (librarian) joined", "Sam has left; the assistant is back"], timeout=LIVE_TIMEOUT
    )
    expect(queue).to_be_hidden()

    # The worker's satisfaction survey follows the leave line.
    monkeypatch.setenv("RIC_RASA_URL", system.rasa_url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", system.token)
    monkeypatch.setenv("RIC_QUIET_HOURS", "off")
    previous = clock.install(clock.TravelClock(datetime.now(UTC) + timedelta(hours=3)))
    try:
        run_surveys(sam.sessions)
    finally:
        clock.install(previous)
    last = reader.locator(f"{W} .ric-log > *").last
    expect(last).to_contain_text("How would you rate your experience today?", timeout=BOT_TIMEOUT)
    shot(reader, "widget-left")

    # Everything is there after a reload, in order.
    reader.reload()
    reader.evaluate("RicWebchat.open()")
    expect(lines).to_have_text(
        ["Sam (librarian) joined", "Sam has left; the assistant is back"], timeout=LIVE_TIMEOUT
    )
    order = reader.locator(f"{W} .ric-log > *").all_inner_texts()
    left = next(i for i, text in enumerate(order) if "has left" in text)
    survey = next(i for i, text in enumerate(order) if "rate your experience" in text)
    assert left < survey


def test_the_pin_is_masked_as_it_is_typed(reader_pages: list[Page], system: RunningSystem) -> None:
    page = reader_pages[0]
    open_widget(page, system)
    page.locator(f"{W} textarea").fill("what books do i have out")
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "card number", timeout=BOT_TIMEOUT
    )
    page.locator(f"{W} textarea").fill(ADA_CARD)
    page.keyboard.press("Enter")
    pin = page.locator(f"{W} #ric-pin")
    expect(pin).to_be_visible(timeout=BOT_TIMEOUT)
    expect(pin).to_have_attribute("type", "password")
    expect(pin).to_be_focused()
    expect(page.locator(f"{W} textarea")).to_be_hidden()
    page.keyboard.type(ADA_PIN)
    shot(page, "widget-pin")
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-reader .ric-text").last).to_have_text("••••")
    expect(page.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "You have", timeout=BOT_TIMEOUT
    )
    expect(page.locator(f"{W} textarea")).to_be_visible()
    expect(pin).to_be_hidden()
    assert ADA_PIN not in page.evaluate("JSON.stringify(localStorage)")
    assert ADA_PIN not in page.locator(f"{W} .ric-log").inner_text()
