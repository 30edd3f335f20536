"""The conversation page's follow-up panel in headless Chromium (console only, no Rasa)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import HandoffStatus, StaffUser
from crm_store.models.operations import FollowUp
from crm_store.models.statuses import FollowUpStatus
from crm_store.repositories import open_handoff
from handoff_console.accounts import create_staff
from messaging.outreach_store import record_follow_up_answer
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = pytest.mark.browser

PASSWORD = "sam-correct-horse-battery"
XSS = '<img src=x onerror="window.__pwned=1">not <b>sorted</b>'


@dataclass
class Scene:
    """A console with one conversation a librarian has resolved."""

    console: ConsoleServer
    url: str
    conversation_id: int
    database_url: str


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    sender_id = f"web-{uuid.uuid4().hex[:8]}"
    with sessions.begin() as session:
        sam = create_staff(
            session, username="sam", password=PASSWORD, role="librarian", display_name="Sam Reyes"
        )
        event = {
            "event": "user",
            "text": "my interlibrary loan has not arrived",
            "timestamp": time.time(),
            "input_channel": "webchat",
            "parse_data": {"intent": {"name": "interlibrary_loan", "confidence": 0.9}},
        }
        ingest(session, [RasaEvent(sender_id, event)], "test")
        handoff, _ = open_handoff(
            session, sender_id=sender_id, channel="webchat", reason="reader asked"
        )
        handoff.status = HandoffStatus.RESOLVED
        handoff.librarian_id = sam.id
        handoff.resolved_at = handoff.requested_at
        conversation_id = int(handoff.conversation_id)
    sessions.kw["bind"].dispose()
    console = start_console(url, tmp_path / "console.log")
    try:
        yield Scene(console, f"http://127.0.0.1:{console.port}", conversation_id, url)
    finally:
        console.stop()


def test_a_librarian_plans_a_follow_up_and_sees_the_answer(page: Page, scene: Scene) -> None:
    path = f"/conversations/{scene.conversation_id}"
    page.goto(f"{scene.url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{scene.url}{path}")

    panel = page.locator("#follow-up-panel")
    expect(panel.locator("#follow-up-list li")).to_have_text("No follow-ups planned.")
    due = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=3)).date().isoformat()
    panel.get_by_label("Follow up on").fill(due)
    panel.get_by_label("Note").fill("check the book arrived")
    panel.get_by_role("button", name="Plan follow-up").click()
    item = panel.locator("#follow-up-list li")
    expect(item).to_have_count(1)
    expect(item.locator("strong")).to_have_text(due)
    expect(item.locator(".follow-up-status")).to_have_text("scheduled")

    # The worker sent it and the reader answered; the librarian sees it, as text.
    sessions = make_session_factory(make_engine(scene.database_url))
    with sessions.begin() as session:
        row = session.execute(select(FollowUp)).scalar_one()
        row.status = FollowUpStatus.SENT.value
        row.sent_sender_id = "web-answer"
        record_follow_up_answer(
            session, follow_up_id=row.id, sender_id="web-answer", answer="no", text=XSS
        )
        assert session.execute(select(StaffUser.id)).scalar_one() == row.staff_user_id
    sessions.kw["bind"].dispose()
    page.reload()
    item = page.locator("#follow-up-panel #follow-up-list li")
    expect(item.locator(".follow-up-status")).to_have_text("answered")
    expect(item.locator(".follow-up-answer")).to_have_text("Reader: no, not sorted")
    expect(item.locator("q")).to_have_text(XSS)
    expect(page.locator("#follow-up-panel img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
