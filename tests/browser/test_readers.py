"""The reader pages in headless Chromium: search, profile, merge, split and audit.

Only the console runs here (a real ``python -m handoff_console`` process on a migrated
SQLite store); nothing on these pages needs Rasa.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import Reader
from crm_store.repositories import conversation_of, link_verified_reader
from handoff_console.accounts import create_staff
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = pytest.mark.browser

NAME = '<img src=x onerror="window.__pwned=1">Ada <b>Okafor</b>'
CARD = "21234000123456"
PASSWORD = "sam-correct-horse-battery"


@dataclass
class Scene:
    """A console with one verified reader on the widget and an anonymous one on Telegram."""

    console: ConsoleServer
    url: str
    ada: int
    other: int
    telegram_sender: str


def _talk(session, sender_id: str, channel: str) -> int:
    ingest(
        session,
        [
            RasaEvent(
                sender_id,
                {
                    "event": "user",
                    "text": "hello",
                    "timestamp": time.time(),
                    "input_channel": channel,
                    "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
                },
            )
        ],
        "test",
    )
    session.flush()
    return int(conversation_of(session, sender_id).reader_id)


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    telegram_sender = f"tg-{uuid.uuid4().hex[:8]}"
    with sessions.begin() as session:
        create_staff(
            session, username="sam", password=PASSWORD, role="librarian", display_name="Sam Reyes"
        )
        _talk(session, "web-ada", "webchat")
        ada = link_verified_reader(
            session,
            channel="webchat",
            external_id="web-ada",
            card_number=CARD,
            name=NAME,
            email=None,
        ).id
        other = _talk(session, telegram_sender, "telegram")
        session.get(Reader, other).email = "ada.elsewhere@example.org"
    sessions.kw["bind"].dispose()
    console = start_console(url, tmp_path / "console.log")
    try:
        yield Scene(console, f"http://127.0.0.1:{console.port}", ada, other, telegram_sender)
    finally:
        console.stop()


def sign_in(page: Page, scene: Scene, path: str) -> None:
    page.goto(f"{scene.url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{scene.url}{path}")


def test_search_open_merge_split_and_audit(page: Page, scene: Scene) -> None:
    sign_in(page, scene, "/readers")
    expect(page.get_by_role("link", name="Readers")).to_be_visible()

    # Search by the last digits of the card; the name is shown as text, never as markup.
    page.locator("#readers-q").fill("3456")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#readers-summary")).to_have_text("1 reader found.")
    row = page.locator("#readers-rows tr")
    expect(row).to_have_count(1)
    expect(row.locator(".reader-link")).to_have_text(f"#{scene.ada} {NAME}")
    expect(row.locator(".card-number")).to_have_text("**********3456")
    expect(page.locator("#readers-rows img")).to_have_count(0)

    # Open the profile.
    row.locator(".reader-link").click()
    expect(page).to_have_url(f"{scene.url}/readers/{scene.ada}")
    expect(page.locator("#reader-name")).to_have_text(NAME)
    expect(page.locator("#reader-card-line")).to_have_text("Verified · card **********3456")
    identities = page.locator("#identities-rows tr")
    expect(identities).to_have_count(1)
    expect(identities.first.locator(".address")).to_have_text("web-ada")
    expect(page.locator("#reader-panel .rp-conversation")).to_have_count(1)
    expect(identities.first.locator(".identity-label")).to_have_text(
        "Web chat (browser not known, 1 visit)"
    )
    expect(page.locator("#audit-list li").first).to_contain_text("Verified on webchat web-ada")

    # Merge the anonymous Telegram reader in: search, choose, confirm.
    page.locator("#merge-q").fill("ada.elsewhere")
    page.locator("#merge-search-form").get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Choose reader #{scene.other}").click()
    expect(page.locator("#merge-question")).to_have_text(
        f"Merge reader #{scene.other} (Anonymous reader) into reader #{scene.ada} ({NAME})? "
        f"Reader #{scene.other} will no longer exist on its own."
    )
    page.locator("#merge-reason").fill("same email, same person")
    page.get_by_role("button", name="Confirm merge").click()
    expect(page.locator("#merge-status")).to_have_text(
        f"Reader #{scene.other} was merged into this reader."
    )
    expect(identities).to_have_count(2)
    expect(page.locator('#identities-rows tr[data-channel="telegram"] .address')).to_have_text(
        scene.telegram_sender
    )
    expect(page.locator("#audit-list li").first).to_contain_text(
        f"Reader #{scene.other} merged into reader #{scene.ada}; moved 1 identities, "
        "1 conversations. Reason: same email, same person"
    )
    expect(page.locator("#audit-list li").first).to_contain_text("Sam Reyes")

    # Undo it from the audit history: the other reader comes back with its identity.
    page.get_by_role("button", name="Undo this merge").click()
    page.get_by_label("Why undo this merge?").fill("clicked the wrong one")
    page.get_by_role("button", name="Confirm undo").click()
    expect(page.locator("#merge-status")).to_have_text(
        f"Merge undone: reader #{scene.other} is back."
    )
    expect(identities).to_have_count(1)
    expect(page.locator("#audit-list li").first).to_contain_text(
        f"Merge undone: reader #{scene.other} restored from reader #{scene.ada}; moved back "
        "1 identities, 1 conversations. Reason: clicked the wrong one"
    )
    expect(page.get_by_role("button", name="Undo this merge")).to_have_count(0)

    # Merge again, for real this time.
    page.locator("#merge-search-form").get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Choose reader #{scene.other}").click()
    page.locator("#merge-reason").fill("same email, same person")
    page.get_by_role("button", name="Confirm merge").click()
    expect(identities).to_have_count(2)

    # Split the Telegram identity back off.
    page.locator('#identities-rows tr[data-channel="telegram"] input[type="checkbox"]').check()
    page.locator("#split-reason").fill("her brother's account")
    page.get_by_role("button", name="Split the ticked identities into a new reader").click()
    new_link = page.locator("#split-new-reader")
    expect(new_link).to_be_visible()
    new_id = int(new_link.inner_text().removeprefix("reader #"))
    expect(identities).to_have_count(1)
    expect(page.locator("#audit-list li").first).to_contain_text(
        f"Split from reader #{scene.ada} into new reader #{new_id}; moved 1 identities, "
        "1 conversations. Reason: her brother's account"
    )
    expect(page.locator("#audit-list li")).to_have_count(5)

    # The new reader has the Telegram identity and the same audit entry.
    new_link.click()
    expect(page).to_have_url(f"{scene.url}/readers/{new_id}")
    expect(page.locator("#reader-name")).to_have_text("Anonymous reader")
    expect(page.locator("#identities-rows tr .address")).to_have_text(scene.telegram_sender)
    expect(page.locator("#audit-list li").first).to_contain_text(
        f"Split from reader #{scene.ada} into new reader #{new_id}"
    )

    assert page.evaluate("window.__pwned") is None
    expect(page.locator("#main img")).to_have_count(0)
