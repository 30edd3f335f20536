"""Two librarians and one reader: conversation states that cannot contradict each other.

The real system (Rasa, action server, console, worker) with three browser contexts:
the reader in the widget on the demo page, Sam and Maria signed in to the console.
A reply to a waiting conversation claims it; a reply to a colleague's conversation is
not sent until the librarian takes over; the transcript shows the system lines; the
bot's ``EXTERNAL_handoff_resolved`` never shows as the reader's message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.models import OutboundMessage, RawEvent
from handoff_console.accounts import create_staff
from tests.live_console import conversation_id, wait_for
from tests.system import ROOT, RunningSystem

pytestmark = [pytest.mark.workspace, pytest.mark.browser, pytest.mark.rasa]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
BOT_TIMEOUT = 30_000
LIVE_TIMEOUT = 20_000
SCREENSHOTS = ROOT / "docs" / "img" / "console"

SAM_REPLY = "Hello, I'm Sam <b>from reference</b>."
MARIA_REPLY = "Maria here: I look after theses."
QUESTION = "Can I renew it for a month? <img src=x onerror=alert(1)>"


@dataclass
class Tab:
    """A page in its own browser context, recording page errors and native dialogs."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@dataclass
class Librarian:
    """A console account made for this test."""

    username: str
    password: str
    name: str


def _tab(browser: Browser) -> Tab:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    tab = Tab(context, page)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    return tab


@pytest.fixture
def store(system: RunningSystem) -> Iterator[sessionmaker[Session]]:
    """Sessions on the running system's reader store."""
    sessions = make_session_factory(make_engine(system.database_url))
    yield sessions
    sessions.kw["bind"].dispose()


@pytest.fixture
def librarians(store: sessionmaker[Session]) -> tuple[Librarian, Librarian]:
    """Sam and Maria, with unique user names on the shared system."""
    made = []
    for name in ("Sam Reyes", "Maria Lopez"):
        username = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}"
        password = f"{username}-correct-horse-battery"
        with store.begin() as session:
            create_staff(
                session, username=username, password=password, role="librarian",
                display_name=name, capacity=20,
            )  # fmt: skip
        made.append(Librarian(username, password, name))
    return made[0], made[1]


@pytest.fixture
def tabs(browser: Browser) -> Iterator[tuple[Tab, Tab, Tab]]:
    """(reader, Sam, Maria); none may raise a page error or open a native dialog."""
    opened = (_tab(browser), _tab(browser), _tab(browser))
    yield opened
    for tab in opened:
        tab.context.close()
    assert [tab.errors for tab in opened] == [[], [], []]
    assert [tab.dialogs for tab in opened] == [[], [], []]


def _open_conversation(
    page: Page, system: RunningSystem, who: Librarian, conversation: int
) -> None:
    page.goto(f"{system.console_url}/conversations/{conversation}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(who.username)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{system.console_url}/conversations/{conversation}")
    expect(page.locator("#live-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)


def _reply(page: Page, text: str) -> None:
    page.locator("#reply-text").fill(text)
    page.locator("#reply-text").press("Enter")


def _sent_texts(store: sessionmaker[Session], conversation: int) -> list[str]:
    with store() as session:
        return list(
            session.execute(
                select(OutboundMessage.text)
                .where(OutboundMessage.conversation_id == conversation)
                .order_by(OutboundMessage.id)
            ).scalars()
        )


def _shoot(locator: Locator, name: str) -> None:
    """Save a screenshot for docs/console.md (each under 200 KB)."""
    path = SCREENSHOTS / name
    locator.screenshot(path=str(path))
    assert path.stat().st_size < 200_000


def _ingested_trigger(store: sessionmaker[Session], sender_id: str) -> bool:
    """Whether the raw events hold the resolve's trigger and a bot message followed it."""
    with store() as session:
        texts = [
            (body or {}).get("text")
            for body in session.execute(
                select(RawEvent.body)
                .where(RawEvent.sender_id == sender_id, RawEvent.type_name.in_(["user", "bot"]))
                .order_by(RawEvent.timestamp)
            ).scalars()
        ]
    trigger = "EXTERNAL: EXTERNAL_handoff_resolved"
    return trigger in texts and texts.index(trigger) < len(texts) - 1


def test_a_reply_claims_a_colleague_cannot_answer_too_and_the_transcript_says_who(
    system: RunningSystem,
    store: sessionmaker[Session],
    librarians: tuple[Librarian, Librarian],
    tabs: tuple[Tab, Tab, Tab],
) -> None:
    sam, maria = librarians
    reader, sam_page, maria_page = (tab.page for tab in tabs)

    # The reader asks for a librarian.
    reader.goto(f"{system.console_url}/demo")
    reader.locator(f"{W} .ric-launcher").click()
    reader.locator(f"{W} textarea").fill("can I talk to a librarian please")
    reader.keyboard.press("Enter")
    expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "asked a librarian", timeout=BOT_TIMEOUT
    )
    conversation = conversation_id(store, reader.evaluate("RicWebchat.sessionId()"))

    # Before anyone claims it, it reads "Waiting", not "With a librarian".
    _open_conversation(sam_page, system, sam, conversation)
    expect(sam_page.locator("#conversation-status")).to_have_text("Waiting")
    lines = sam_page.locator("#transcript .msg-system-line .msg-text")
    expect(lines).to_have_text(["Waiting for a librarian"])

    # Sam replies without claiming: the reply claims it, for everyone, live.
    _open_conversation(maria_page, system, maria, conversation)
    expect(maria_page.locator("#conversation-status")).to_have_text("Waiting")
    _reply(sam_page, SAM_REPLY)
    expect(reader.locator(f"{W} .ric-librarian .ric-text")).to_have_text(
        [SAM_REPLY], timeout=LIVE_TIMEOUT
    )
    expect(sam_page.locator("#conversation-status")).to_have_text("With Sam Reyes")
    expect(lines).to_have_text(["Waiting for a librarian", "Sam Reyes joined"])
    expect(maria_page.locator("#conversation-status")).to_have_text(
        "With Sam Reyes", timeout=LIVE_TIMEOUT
    )
    banner = maria_page.locator("#holder-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Sam Reyes is handling this conversation — take over?")

    # Maria replies while Sam holds it: refused, nothing saved, nothing reaches the reader.
    _reply(maria_page, MARIA_REPLY)
    refused = maria_page.locator('#transcript .msg-local[data-state="failed"]')
    expect(refused).to_have_count(1)
    expect(refused.locator(".msg-state")).to_contain_text("Sam Reyes is handling this conversation")
    assert _sent_texts(store, conversation) == [SAM_REPLY]
    _shoot(maria_page.locator(".transcript-panel"), "conversation-take-over.png")

    # She takes over (the claim flow, audited); her reply goes out now.
    maria_page.get_by_role("button", name="Take over").click()
    expect(reader.locator(f"{W} .ric-librarian .ric-text")).to_have_text(
        [SAM_REPLY, MARIA_REPLY], timeout=LIVE_TIMEOUT
    )
    expect(maria_page.locator("#conversation-status")).to_have_text("With Maria Lopez")
    expect(sam_page.locator("#conversation-status")).to_have_text(
        "With Maria Lopez", timeout=LIVE_TIMEOUT
    )
    expect(sam_page.locator("#holder-banner")).to_contain_text("Maria Lopez is handling")
    assert _sent_texts(store, conversation) == [SAM_REPLY, MARIA_REPLY]

    # The reader asks something; resolving first asks whether to leave it unanswered.
    reader.locator(f"{W} textarea").fill(QUESTION)
    reader.keyboard.press("Enter")
    transcript = maria_page.locator("#transcript")
    expect(transcript.locator(".msg-reader .msg-text").last).to_have_text(
        QUESTION, timeout=LIVE_TIMEOUT
    )
    maria_page.locator("#resolve-details summary").click()
    maria_page.get_by_role("button", name=re.compile("^Resolve and hand back")).click()
    confirm = maria_page.locator("#unanswered-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("The reader's last question is unanswered — resolve anyway?")
    expect(maria_page.locator("#conversation-status")).to_have_text("With Maria Lopez")
    _shoot(maria_page.locator("#resolve-details"), "conversation-unanswered.png")
    maria_page.get_by_role("button", name="Resolve anyway").click()
    expect(maria_page.locator("#conversation-status")).to_have_text(
        "Resolved", timeout=LIVE_TIMEOUT
    )

    # The bot is back; its trigger never shows as the reader's message.
    expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        re.compile(r"I.m back", re.IGNORECASE), timeout=BOT_TIMEOUT
    )
    sender_id = reader.evaluate("RicWebchat.sessionId()")
    # The console streams messages of open handoffs only: once ingestion has stored
    # the trigger and the bot's answer, the page is loaded again.
    wait_for(lambda: _ingested_trigger(store, sender_id))
    maria_page.reload()
    expect(transcript.locator(".msg-bot .msg-text").last).to_contain_text(
        re.compile(r"I.m back", re.IGNORECASE), timeout=LIVE_TIMEOUT
    )
    expect(transcript.locator(".msg-system-line .msg-text")).to_have_text(
        [
            "Waiting for a librarian",
            "Sam Reyes joined",
            "Maria Lopez took over from Sam Reyes",
            "Resolved by Maria Lopez",
        ]
    )
    order = transcript.locator("li").evaluate_all(
        """rows => rows.map(row => row.classList.contains("msg-system-line")
            ? row.querySelector(".msg-text").textContent
            : row.classList.contains("msg-bot") && /back/.test(row.textContent) ? "(back)" : null
        ).filter(Boolean)"""
    )
    assert order[-2:] == ["Resolved by Maria Lopez", "(back)"]
    expect(transcript).not_to_contain_text("EXTERNAL")
    expect(transcript.locator(".msg-reader .msg-text")).to_have_text(
        ["can I talk to a librarian please", QUESTION]
    )
    assert transcript.locator("img, b").count() == 0
    transcript.evaluate("t => { t.scrollTop = t.scrollHeight; }")
    _shoot(maria_page.locator(".transcript-panel"), "conversation-states.png")
