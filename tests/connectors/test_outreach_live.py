"""End to end in the widget: a librarian's follow-up and the reader's answer, and due-date
reminders with consent given and withdrawn in the chat.

Everything real (``python -m launcher up``); the worker's jobs run here against the
system's reader store, Rasa and demo library system, exactly as the worker runs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm_store.models.operations import ReaderPreference
from library.ils import clear_library_system_cache
from tests.aio import run
from tests.handoff_console.conftest import ApiClient
from tests.live_console import conversation_id as conversation_of_sender
from tests.live_console import handoff_in_widget, live_librarian, wait_for
from tests.webchat_client import WidgetClient, bot_texts
from worker.jobs.follow_ups import send_due_follow_ups
from worker.jobs.reader_care import send_reminders

pytestmark = pytest.mark.rasa


@pytest.fixture
def live(system: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The worker's environment pointed at the system, and a librarian with an API client."""
    monkeypatch.setenv("RIC_RASA_URL", system.rasa_url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", system.token)
    monkeypatch.setenv("RIC_QUIET_HOURS", "off")
    monkeypatch.setenv("RIC_DEMO_ILS_DB", str(system.var_dir / "demo_ils.db"))
    monkeypatch.delenv("RIC_LIBRARY_SYSTEM", raising=False)
    clear_library_system_cache()
    librarian = live_librarian(system, "Kim Outreach", "outreach")
    yield {"api": librarian.api, "sessions": librarian.sessions, "staff_id": librarian.staff_id}
    librarian.sessions.kw["bind"].dispose()
    clear_library_system_cache()


async def _bot_until(widget: WidgetClient, needle: str) -> dict[str, Any]:
    while True:
        frame = await widget.recv_until("bot", timeout=30)
        if needle in frame["text"]:
            return frame


def test_a_follow_up_reaches_the_widget_and_the_answer_reaches_the_librarian(
    system: Any, live: dict[str, Any]
) -> None:
    api: ApiClient = live["api"]
    sessions = live["sessions"]

    async def scenario() -> None:
        widget = await handoff_in_widget(system)
        sender_id = widget.session_id
        assert sender_id is not None
        conversation_id = await asyncio.to_thread(conversation_of_sender, sessions, sender_id)
        assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
        assert api.post(f"/api/conversations/{conversation_id}/resolve", {}).status == 200
        await _bot_until(widget, "I'm back!")

        today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()  # the library's
        planned = api.post(
            f"/api/conversations/{conversation_id}/follow-up", {"due": today, "note": "ILL?"}
        )
        assert planned.status == 201, planned.text
        follow_up_id = planned.json()["id"]
        sent = await asyncio.to_thread(send_due_follow_ups, sessions)
        assert sent == [follow_up_id]

        question = await _bot_until(widget, "Did that sort things out?")
        assert [b["title"] for b in question["buttons"]] == ["Yes, all sorted", "No, not yet"]
        no = question["buttons"][1]
        replies = bot_texts(await widget.click(no["title"], no["payload"]))
        assert any(t.startswith("I'm sorry to hear that.") for t in replies), replies

        def answered() -> list[dict[str, Any]] | None:
            items = api.get(f"/api/conversations/{conversation_id}/follow-ups").json()["items"]
            return [i for i in items if i["answer"] == "no"] or None

        [item] = await asyncio.to_thread(wait_for, answered)
        assert (item["id"], item["status"], item["sent_channel"]) == (
            follow_up_id,
            "answered",
            "webchat",
        )
        notes = api.get("/api/notifications?unread=1").json()["items"]
        assert [n["kind"] for n in notes if n["subject"] == f"conversation:{conversation_id}"] == [
            "follow_up_answer"
        ]
        assert await asyncio.to_thread(send_due_follow_ups, sessions) == []
        await widget.close()

    run(scenario())


def test_reminders_need_consent_and_stop_with_the_button(system: Any, live: dict[str, Any]) -> None:
    sessions = live["sessions"]

    async def scenario() -> None:
        widget = await WidgetClient(system.ws_url).connect()
        asked = bot_texts(await widget.say("can you remind me before my books are due?"))
        assert any("library card number" in t for t in asked), asked
        done = bot_texts(await widget.say("card is 21234000123456, pin 4821"))
        assert any(t.startswith("Done! I'll remind you 3 days before") for t in done), done

        run_1 = await asyncio.to_thread(send_reminders, sessions)
        # Ada's loans due in 2 and 3 days and her ready hold (unless another test renewed them)
        assert run_1.sent >= 1
        reminder = await _bot_until(widget, "Reminder from the library")
        assert reminder["buttons"] == [{"title": "Stop reminders", "payload": "/stop_reminders"}]
        for _ in range(run_1.sent - 1):
            await widget.recv_until("bot", timeout=30)
        assert (await asyncio.to_thread(send_reminders, sessions)).sent == 0

        stop = reminder["buttons"][0]
        stopped = bot_texts(await widget.click(stop["title"], stop["payload"]))
        assert any(t.startswith("OK, no more reminders.") for t in stopped), stopped
        with sessions() as session:
            preference = (
                session.execute(
                    select(ReaderPreference).order_by(ReaderPreference.updated_at.desc())
                )
                .scalars()
                .first()
            )
        assert preference is not None
        assert (preference.due_date_reminders, preference.hold_ready_notices) == (False, False)
        await widget.close()

    run(scenario())
