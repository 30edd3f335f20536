"""Email replies that failed show in the console (issue 18, the SMTP part of item 5).

A real console process on a migrated SQLite store in which one email conversation has
a reply being retried and one that expired (the rows the email channel writes, see
tests/trust/test_outbox_retry.py): the conversation's API and page, and the home
page's health, say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm_store import clock
from crm_store.conversations import ensure_conversation
from crm_store.mail_outbox import queue_mail
from handoff_console.health import MAIL_DELIVERY
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for, staff_store
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.trust.test_data_rights_console import SHOTS, sign_in_as

pytestmark = [pytest.mark.trust, pytest.mark.browser]

__all__ = ["staff_store"]  # fixtures used here


@dataclass
class Scene:
    console: ConsoleServer
    store: ConsoleStore
    conversation_id: int
    quiet_id: int


@pytest.fixture
def scene(staff_store: ConsoleStore, tmp_path: Path) -> Iterator[Scene]:
    now = clock.now()
    with staff_store.sessions.begin() as session:
        conversation = ensure_conversation(session, "email:failing", "email", now)
        quiet = ensure_conversation(session, "email:fine", "email", now)
        for n, (status, attempts, error) in enumerate(
            [("pending", 2, "451 4.3.0 Mailbox temporarily unavailable"), ("expired", 9, None)]
        ):
            row = queue_mail(
                session,
                message_id=f"<reply-{n}@library.test>",
                sender_id="email:failing",
                to="ada@readers.test",
                mail="To: ada@readers.test\n\nWe open at nine.",
                now=now,
                expires_at=now + timedelta(hours=72),
            )
            row.status, row.attempts, row.last_error = status, attempts, error
            row.next_attempt_at = now + timedelta(minutes=2)
        ids = (int(conversation.id), int(quiet.id))
    console = start_console(staff_store.url, tmp_path / "console.log")
    try:
        yield Scene(console, staff_store, *ids)
    finally:
        console.stop()


def test_failed_email_replies_show_on_the_conversation_and_in_the_health(
    page: Page, scene: Scene
) -> None:
    sam = ApiClient(scene.console, api_token_for(scene.store.sessions, "sam"))
    reply = sam.get(f"/api/conversations/{scene.conversation_id}/mail-delivery")
    assert reply.status == 200
    items = reply.json()["items"]
    assert [(i["status"], i["retrying"], i["attempts"]) for i in items] == [
        ("pending", True, 2),
        ("expired", False, 9),
    ]
    assert items[0]["last_error"] == "451 4.3.0 Mailbox temporarily unavailable"
    assert items[1]["next_attempt_at"] is None
    assert sam.get(f"/api/conversations/{scene.quiet_id}/mail-delivery").json() == {"items": []}
    assert sam.get("/api/conversations/999999/mail-delivery").status == 404
    assert (
        ApiClient(scene.console, None)
        .get(f"/api/conversations/{scene.conversation_id}/mail-delivery")
        .status
        == 401
    )

    health = ApiClient(scene.console, None).get("/api/health").json()
    [mail] = [s for s in health["services"] if s["name"] == MAIL_DELIVERY]
    assert mail == {
        "name": MAIL_DELIVERY,
        "status": "degraded",
        "detail": "1 email reply not delivered, retrying; 1 expired",
    }

    sign_in_as(page, scene.console, "sam", f"/conversations/{scene.conversation_id}")
    notice = page.locator("#mail-delivery")
    expect(notice).to_be_visible()
    lines = notice.locator("li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Email reply not delivered, retrying (tried 2 times")
    expect(lines.nth(0)).to_contain_text("Last error: 451 4.3.0 Mailbox temporarily unavailable")
    expect(lines.nth(1)).to_have_text("Email reply not delivered: given up after 9 tries.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    notice.screenshot(path=str(SHOTS / "conversation-mail-not-delivered.png"))
    page.goto(f"http://127.0.0.1:{scene.console.port}/")
    expect(page.get_by_text("1 email reply not delivered, retrying; 1 expired")).to_be_visible()
