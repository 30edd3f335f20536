"""Typing both ways and private notes, in Chromium, against the whole running system.

Rasa (with the web chat channel), the action server, the console and the worker run as
``python -m launcher up`` starts them. The reader types in the widget on the demo page;
Sam, signed in to the console, sees "<reader> is typing…" on the conversation page (the
page the inbox shows in its middle pane), and the reader sees "Sam is typing…" while
Sam writes a reply. A private note written in the reply box's "Private note" mode is
shown in the staff transcript, marked, and never reaches the reader.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.models import Conversation
from handoff_console.accounts import create_staff
from tests.live_console import conversation_id, wait_for
from tests.system import ROOT, RunningSystem

pytestmark = [pytest.mark.workspace, pytest.mark.browser, pytest.mark.rasa]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
BOT_TIMEOUT = 30_000
LIVE_TIMEOUT = 20_000  # a few rounds of RIC_WEBCHAT_HANDOFF_POLL_SECONDS
SHOTS = ROOT / "docs" / "img" / "console"
NOTE = "Checked the <b>ILL</b> system: request 4411 is in transit."
REPLY = "Your interlibrary loan is on its way; it should arrive on Thursday."


@pytest.fixture
def store(system: RunningSystem) -> Iterator[sessionmaker[Session]]:
    """Sessions on the running system's reader store."""
    sessions = make_session_factory(make_engine(system.database_url))
    yield sessions
    sessions.kw["bind"].dispose()


def _staff_typing(store: sessionmaker[Session], conversation: int) -> object:
    with store() as session:
        return session.execute(
            select(Conversation.staff_typing_at).where(Conversation.id == conversation)
        ).scalar_one()


def test_typing_both_ways_and_a_private_note_the_reader_never_sees(
    pages: tuple[Page, Page], system: RunningSystem, store: sessionmaker[Session]
) -> None:
    reader, console = pages
    username = f"sam-{uuid.uuid4().hex[:6]}"
    password = f"{username}-correct-horse-battery"
    with store.begin() as session:
        create_staff(
            session, username=username, password=password, role="librarian",
            display_name="Sam Reyes", capacity=20,
        )  # fmt: skip

    # The reader asks for a librarian in the widget.
    reader.goto(f"{system.console_url}/demo")
    expect(reader.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    reader.evaluate("RicWebchat.open()")
    reader.locator(f"{W} textarea").fill("can I talk to a librarian please")
    reader.keyboard.press("Enter")
    expect(reader.locator(f"{W} .ric-bot .ric-text").last).to_contain_text(
        "asked a librarian to join", timeout=BOT_TIMEOUT
    )
    sender_id = reader.evaluate("RicWebchat.sessionId()")
    conversation = conversation_id(store, str(sender_id))

    # Sam opens it in the console and claims it.
    console.goto(f"{system.console_url}/conversations/{conversation}")
    expect(console).to_have_url(re.compile(r"/login\?next="))
    console.get_by_label("User name").fill(username)
    console.get_by_label("Password").fill(password)
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator("#live-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    console.locator("#claim-button").click()
    expect(console.locator("#conversation-status")).to_have_text("With Sam Reyes")
    expect(reader.locator(f"{W} .ric-system")).to_have_text(
        ["Sam (librarian) joined"], timeout=LIVE_TIMEOUT
    )

    # The reader types: Sam sees it; the reader stops (empties the box): it goes.
    typing_line = console.locator("#reader-typing")
    expect(typing_line).to_be_hidden()
    reader.locator(f"{W} textarea").press_sequentially("it is about my inter", delay=40)
    expect(typing_line).to_have_text("The reader is typing…", timeout=LIVE_TIMEOUT)
    SHOTS.mkdir(parents=True, exist_ok=True)
    console.locator(".transcript-panel").screenshot(path=str(SHOTS / "conversation-typing.png"))
    reader.locator(f"{W} textarea").fill("")
    reader.locator(f"{W} textarea").dispatch_event("input")
    expect(typing_line).to_be_hidden(timeout=LIVE_TIMEOUT)

    # Sam types a reply: the reader sees "Sam is typing…" until the reply arrives.
    indicator = reader.locator(f"{W} .ric-typing")
    console.locator("#reply-text").press_sequentially("Your interlibrary", delay=40)
    expect(indicator).to_have_text("Sam is typing…", timeout=LIVE_TIMEOUT)
    expect(indicator).to_have_attribute("data-who", "librarian")
    reader.locator(f"{W} .ric-panel").screenshot(path=str(SHOTS / "widget-typing.png"))
    console.locator("#reply-text").fill(REPLY)
    console.locator("#reply-text").press("Enter")
    expect(reader.locator(f"{W} .ric-librarian .ric-text").last).to_have_text(
        REPLY, timeout=BOT_TIMEOUT
    )
    expect(indicator).to_be_hidden(timeout=LIVE_TIMEOUT)
    wait_for(lambda: _staff_typing(store, conversation) is None, timeout=10)

    # A private note: written in the reply box, shown in the transcript, marked.
    console.get_by_role("radio", name="Private note").check()
    expect(console.locator("#reply-form")).to_have_attribute("data-mode", "note")
    expect(console.locator("#reply-send")).to_have_text("Add note")
    console.locator("#reply-text").fill(NOTE)
    console.locator("#reply-text").press("Enter")
    note = console.locator("#transcript .msg-note")
    expect(note).to_have_count(1)
    expect(note.locator(".msg-text")).to_have_text(NOTE)  # as text, never markup
    expect(note.locator(".note-badge")).to_have_text("Private note")
    expect(console.locator("#reply-text")).to_have_value("")
    # Writing a note tells the reader nothing: no typing signal, no message.
    console.locator("#reply-text").press_sequentially("one more thought", delay=30)
    assert _staff_typing(store, conversation) is None
    expect(indicator).to_be_hidden()

    # After a reload the note is still in the transcript, after Sam's reply.
    console.reload()
    expect(console.locator("#live-status")).to_have_text("Live", timeout=LIVE_TIMEOUT)
    rows = console.locator("#transcript > li")
    expect(console.locator("#transcript .msg-note .msg-text")).to_have_text([NOTE])
    texts = rows.all_inner_texts()
    assert [i for i, t in enumerate(texts) if REPLY in t] < [
        i for i, t in enumerate(texts) if NOTE in t
    ]
    console.get_by_role("radio", name="Private note").check()
    console.locator(".transcript-panel").screenshot(
        path=str(SHOTS / "conversation-private-note.png")
    )

    # Sam resolves: the reader's chat has the reply and the leave, never the note.
    console.locator("#resolve-details summary").click()
    console.locator("#resolve-submit").click()
    expect(reader.locator(f"{W} .ric-system")).to_have_text(
        ["Sam (librarian) joined", "Sam has left; the assistant is back"], timeout=LIVE_TIMEOUT
    )
    assert "4411" not in reader.locator(f"{W} .ric-log").inner_text()
