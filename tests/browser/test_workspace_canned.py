"""Canned replies in headless Chromium: edit and delete on /canned, the "/" picker in a chat.

Only the console runs (a real ``python -m handoff_console`` on a migrated SQLite store
with the starter set seeded); nothing here needs Rasa, since the picker fills the
reply box and the test does not send it.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import CannedResponse, Reader
from crm_store.repositories import conversation_of, open_handoff
from crm_store.seed import STARTER_CANNED, seed_canned
from tests.browser.axe import axe_violations, report
from tests.browser.conftest import ConsoleScene, StartScene

pytestmark = [pytest.mark.browser, pytest.mark.workspace]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "console"
LIBRARY = "Riverbend Public Library"


@dataclass
class Scene(ConsoleScene):
    """A console with the starter replies and two waiting chats (Ada's, and an anonymous one)."""

    ada_chat: int = 0
    anonymous_chat: int = 0


def _waiting_chat(session, text: str, name: str | None) -> int:
    sender_id = f"web-{uuid.uuid4().hex[:8]}"
    event = {
        "event": "user",
        "text": text,
        "timestamp": time.time() - 60,
        "input_channel": "webchat",
        "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}},
    }
    ingest(session, [RasaEvent(sender_id, event)], "test")
    handoff, _ = open_handoff(session, sender_id=sender_id, channel="webchat", reason="asked")
    if name is not None:
        reader = Reader(display_name=name)
        session.add(reader)
        session.flush()
        conversation_of(session, sender_id).reader_id = reader.id
    return int(handoff.conversation_id)


@pytest.fixture
def scene(console_scene: StartScene) -> Scene:
    def setup(session: Session) -> tuple[int, int]:
        seed_canned(session)
        ada = _waiting_chat(session, "Is the Wi-Fi free?", "Ada Okafor")
        return ada, _waiting_chat(session, "Hello?", None)

    base, (ada, anonymous) = console_scene(setup)
    return Scene(base.console, base.url, base.sessions, ada, anonymous)


def test_edit_and_delete_a_canned_reply(page: Page, scene: Scene) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    scene.sign_in(page, "/canned")
    items = page.locator("#canned-list .canned-item")
    expect(items).to_have_count(len(STARTER_CANNED))
    # The starter set is shared and has no author: a librarian uses it but cannot change it.
    greeting = items.filter(has_text="/hello")
    expect(greeting.locator(".canned-title")).to_have_text("Greeting")
    expect(greeting.get_by_role("button", name="Edit Greeting")).to_have_count(0)

    page.get_by_label("Title").fill("Renewal limit")
    page.get_by_label("Shortcut").fill("limit")
    page.get_by_label("Text", exact=True).fill("Hi {first_name}, you can renew 3 times.")
    page.get_by_label("Tag").fill("loans")
    page.get_by_role("button", name="Save canned reply").click()
    expect(page.locator("#canned-status")).to_have_text("Saved “Renewal limit”.")
    mine = items.filter(has_text="Renewal limit")
    expect(mine.locator(".canned-body")).to_have_text("Hi {first_name}, you can renew 3 times.")

    mine.get_by_role("button", name="Edit Renewal limit").click()
    expect(page.locator("#canned-create-heading")).to_have_text("Edit “Renewal limit”")
    expect(page.get_by_label("Text", exact=True)).to_have_value(
        "Hi {first_name}, you can renew 3 times."
    )
    page.get_by_label("Text", exact=True).fill("Hi {first_name}, each loan renews 5 times.")
    page.get_by_label("Language").select_option("en")
    page.get_by_label("Share with every librarian").uncheck()
    violations = axe_violations(page)
    assert violations == [], report(violations)
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "canned-edit.png"))
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#canned-status")).to_have_text("Changes saved to “Renewal limit”.")
    expect(mine.locator(".canned-body")).to_have_text("Hi {first_name}, each loan renews 5 times.")
    expect(mine.locator(".canned-badge")).to_have_text(
        ["Personal · Sam Reyes", "English", "#loans"]
    )
    expect(page.locator("#canned-create-heading")).to_have_text("New canned reply")

    # The change is stored: a fresh page shows it too.
    page.reload()
    expect(mine.locator(".canned-body")).to_have_text("Hi {first_name}, each loan renews 5 times.")
    page.get_by_label("Show").select_option("mine")
    expect(items).to_have_count(1)
    with scene.sessions() as session:  # type: ignore[operator]
        row = session.execute(
            select(CannedResponse).where(CannedResponse.shortcut == "limit")
        ).scalar_one()
        assert (row.body, row.language, row.owner_id is not None) == (
            "Hi {first_name}, each loan renews 5 times.",
            "en",
            True,
        )

    mine.get_by_role("button", name="Delete Renewal limit").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.locator("#canned-status")).to_have_text("Deleted “Renewal limit”.")
    expect(items).to_have_count(0)
    page.get_by_label("Show").select_option("")
    expect(items).to_have_count(len(STARTER_CANNED))


def test_slash_picker_inserts_a_filled_reply(page: Page, scene: Scene) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    scene.sign_in(page, f"/conversations/{scene.ada_chat}")
    box = page.locator("#reply-text")
    picker = page.locator("#reply-text-canned-picker")
    box.click()
    box.press_sequentially("/wi")
    options = picker.get_by_role("option")
    expect(options.first).to_contain_text("/wifi")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(picker).to_be_hidden()
    box.fill("")

    # "/" alone lists everything; the arrow keys move, Enter inserts the chosen one.
    box.press_sequentially("Thanks! /")
    expect(options).to_have_count(8)
    box.press_sequentially("hel")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Greeting")
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "canned-picker.png"))
    box.press("Enter")
    expect(box).to_have_value(f"Thanks! Hi Ada, I'm Sam Reyes from {LIBRARY}. How can I help?")
    expect(picker).to_be_hidden()

    box.fill("")
    box.press_sequentially("/ill")
    # The shortcut's match comes first, then a title with "ill" in it ("…will email…").
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("Interlibrary loan")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")  # past the last: back to the first
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Tab")
    expect(box).to_have_value(re.compile(r"^We don't have that one, Ada, but we can borrow it"))

    # A reader we don't know by name: the placeholder degrades, it is never sent raw.
    page.goto(f"{scene.url}/conversations/{scene.anonymous_chat}")
    box.click()
    box.press_sequentially("/bye")
    expect(options.first).to_contain_text("Closing")
    box.press("Enter")
    expect(box).to_have_value(re.compile(r"^Glad I could help, there\. I'll close this chat now"))
    assert "{" not in box.input_value()
