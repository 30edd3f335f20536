"""The live relay end to end: a widget reader, the real Rasa and action servers, the
console API and its event stream, all started by ``python -m launcher up``."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import OutboundMessage
from tests.aio import run
from tests.handoff_console.conftest import ApiClient, api_start_console
from tests.handoff_console.live_events import EventStream
from tests.live_console import conversation_id, handoff_in_widget, live_librarian, wait_for
from tests.system import free_port
from tests.webchat_client import bot_texts

pytestmark = pytest.mark.rasa

XSS = '<b onmouseover="alert(1)">hi</b> & <script>x()</script>'
BACK = "I'm back! Thanks for waiting. Is there anything else I can help with?"


@pytest.fixture(scope="module")
def api_live(system) -> dict[str, Any]:
    """A librarian account and an API client on the running system's console."""
    librarian = live_librarian(system, "Robin Live", "live")
    return {
        "api": librarian.api,
        "sessions": librarian.sessions,
        "token": librarian.token,
        "staff_id": librarian.staff_id,
    }


def _wait_for(probe, timeout: float = 15.0, every: float = 0.1) -> Any:
    return wait_for(probe, timeout, every)


def _conversation_id(sessions, sender_id: str) -> int:
    return conversation_id(sessions, sender_id, timeout=15.0)


def test_reader_and_librarian_talk_through_the_console(system, api_live):
    api: ApiClient = api_live["api"]
    listener = EventStream(system.console_port, api_live["token"])
    listener.start()

    async def scenario() -> None:
        widget = await handoff_in_widget(system)
        assert widget.session_id is not None
        conversation_id = await asyncio.to_thread(
            _conversation_id, api_live["sessions"], widget.session_id
        )
        queue = api.get("/api/queue").json()["items"]
        item = next(i for i in queue if i["conversation_id"] == conversation_id)
        assert (item["status"], item["channel"]) == ("waiting", "webchat")
        assert item["reason"] == "reader asked for a librarian"

        claimed = api.post(f"/api/conversations/{conversation_id}/claim")
        assert claimed.status == 200

        sent = api.post(f"/api/conversations/{conversation_id}/messages", {"text": XSS})
        assert sent.status == 201, sent.text
        assert sent.json()["status"] == "sent"
        frame = await widget.recv_until("bot", timeout=10)
        assert (frame["text"], frame["sender"], frame["name"]) == (XSS, "librarian", "Robin Live")

        reader_text = f"Thanks! <i>{uuid.uuid4().hex[:6]}</i>"
        await widget.send({"type": "message", "id": uuid.uuid4().hex, "text": reader_text})

        def seen() -> list[dict[str, Any]]:
            view = api.get(f"/api/conversations/{conversation_id}").json()
            return [m for m in view["messages"] if m["text"] == reader_text]

        [message] = await asyncio.to_thread(_wait_for, seen)
        assert message["sender_kind"] == "reader"
        view = api.get(f"/api/conversations/{conversation_id}").json()
        librarian = [m for m in view["messages"] if m["sender_kind"] == "librarian"]
        assert [(m["text"], m["librarian_name"]) for m in librarian] == [(XSS, "Robin Live")]
        assert view["handoff"]["first_response_at"] is not None

        def streamed() -> list[Any]:
            return [
                d
                for n, d in listener.events
                if n == "message"
                and d["conversation_id"] == conversation_id
                and d["message"]["text"] == reader_text
            ]

        await asyncio.to_thread(_wait_for, streamed, 5.0)

        resolved = api.post(
            f"/api/conversations/{conversation_id}/resolve",
            {"note": "answered", "tags": ["thesis"]},
        )
        assert resolved.status == 200, resolved.text
        assert resolved.json()["handoff"]["status"] == "resolved"
        assert resolved.json()["handoff"]["tags"] == ["thesis"]
        while True:
            frame = await widget.recv_until("bot", timeout=15)
            if frame["text"] == BACK:
                break
        queue = api.get("/api/queue").json()["items"]
        assert conversation_id not in [i["conversation_id"] for i in queue]

        reopened = api.post(f"/api/conversations/{conversation_id}/reopen")
        assert reopened.status == 200, reopened.text
        assert reopened.json()["handoff"]["status"] == "claimed"
        assert reopened.json()["handoff"]["librarian"]["name"] == "Robin Live"
        await widget.close()

    run(scenario())
    assert any(n == "queue" for n, _ in listener.events)


def test_rasa_down_then_the_worker_job_delivers(system, api_live, tmp_path, monkeypatch):
    from worker.jobs.handoff_jobs import retry_outbound

    offline = api_start_console(
        system.database_url,
        tmp_path / "console.log",
        f"http://127.0.0.1:{free_port()}",
        system.token,
    )
    try:
        api = ApiClient(offline, api_live["token"])

        async def scenario() -> None:
            widget = await handoff_in_widget(system)
            assert widget.session_id is not None
            conversation_id = await asyncio.to_thread(
                _conversation_id, api_live["sessions"], widget.session_id
            )
            assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
            reply = api.post(f"/api/conversations/{conversation_id}/messages", {"text": "later"})
            assert reply.status == 502
            body = reply.json()
            assert (body["error"], body["status"]) == ("rasa_unreachable", "pending")
            with api_live["sessions"]() as session:
                row = session.get(OutboundMessage, body["id"])
                assert (row.status, row.attempts) == ("pending", 1)

            monkeypatch.setenv("RIC_RASA_URL", system.rasa_url)
            monkeypatch.setenv("RASA_AUTH_TOKEN", system.token)
            # The running worker retries too; whichever claims the row first sends it.
            await asyncio.to_thread(retry_outbound, api_live["sessions"])
            frame = await widget.recv_until("bot", timeout=10)
            assert (frame["text"], frame["sender"]) == ("later", "librarian")
            with pytest.raises(asyncio.TimeoutError):
                await widget.recv_until("bot", timeout=3)
            with api_live["sessions"]() as session:
                row = session.execute(
                    select(OutboundMessage).where(OutboundMessage.id == body["id"])
                ).scalar_one()
                assert (row.status, row.attempts) == ("sent", 2)
            await widget.close()

        run(scenario())
    finally:
        offline.stop()


def _backdate(sessions, conversation_id: int, seconds: float) -> None:
    from datetime import timedelta

    from crm_store.models import Conversation, Handoff, Message

    with sessions.begin() as session:
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        handoff.requested_at -= timedelta(seconds=seconds)
        conversation = session.get(Conversation, conversation_id)
        conversation.last_activity_at -= timedelta(seconds=seconds)
        for message in session.execute(
            select(Message).where(Message.conversation_id == conversation_id)
        ).scalars():
            message.sent_at -= timedelta(seconds=seconds)


def test_long_wait_becomes_a_ticket_and_silence_is_abandoned(system, api_live, monkeypatch):
    from crm_store.models import Conversation, Handoff, Ticket
    from worker.jobs.handoff_jobs import abandon_silent, ticket_long_waits

    monkeypatch.setenv("RIC_RASA_URL", system.rasa_url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", system.token)
    # Longer than these tests take, shorter than the running worker's defaults.
    monkeypatch.setenv("RIC_QUEUE_WAIT_LIMIT_SECONDS", "120")
    monkeypatch.setenv("RIC_ABANDON_SECONDS", "120")
    sessions = api_live["sessions"]

    async def scenario() -> None:
        patient = await handoff_in_widget(system)
        silent = await handoff_in_widget(system)
        patient_id = await asyncio.to_thread(_conversation_id, sessions, patient.session_id)
        silent_id = await asyncio.to_thread(_conversation_id, sessions, silent.session_id)
        await patient.send({"type": "message", "id": uuid.uuid4().hex, "text": "still here!"})
        await asyncio.sleep(1.5)  # let ingestion settle before moving the clock back
        _backdate(sessions, patient_id, 300)
        _backdate(sessions, silent_id, 300)
        # The patient reader wrote after asking, so they are not abandoned.
        assert await asyncio.to_thread(abandon_silent, sessions) >= 1
        assert await asyncio.to_thread(ticket_long_waits, sessions) >= 1
        frame = await patient.recv_until("bot", timeout=10)
        assert "a librarian will reply here" in frame["text"]
        with sessions() as session:
            handoffs = {
                h.conversation_id: h.status.value
                for h in session.execute(
                    select(Handoff).where(Handoff.conversation_id.in_([patient_id, silent_id]))
                ).scalars()
            }
            assert handoffs == {patient_id: "ticketed", silent_id: "abandoned"}
            ticket = session.execute(
                select(Ticket).where(Ticket.conversation_id == patient_id)
            ).scalar_one()
            assert ticket.contact == f"webchat:{patient.session_id}"
            assert "still here!" in ticket.body
            # The subject is the reader's question, not "Chat not answered: …" nor the
            # request for a librarian itself.
            assert ticket.subject == "still here!"
            assert session.get(Conversation, silent_id).status.value == "abandoned"
        # The bot has the patient's conversation back: it answers again.
        texts = bot_texts(await patient.say("hello"))
        assert texts, "the bot did not answer after the ticket"
        await patient.close()
        await silent.close()

    run(scenario())


def test_the_loans_summary_writes_the_next_due_date_the_librarys_way(system, api_live):
    """A reader signed in with card and PIN: the conversation's loans summary, not ISO."""
    import re

    from tests.webchat_client import WidgetClient

    api: ApiClient = api_live["api"]

    async def sign_in() -> str:
        widget = await WidgetClient(system.ws_url).connect()
        assert any(
            "card number" in t for t in bot_texts(await widget.say("what books do i have out"))
        )
        await widget.say("21234000123456")
        texts = bot_texts(await widget.say("4821", secret=True))
        assert any("You have" in t for t in texts), texts
        await widget.close()
        assert widget.session_id is not None
        return widget.session_id

    sender_id = run(sign_in())
    conversation = _conversation_id(api_live["sessions"], sender_id)

    def summary() -> str | None:
        reader = api.get(f"/api/conversations/{conversation}").json()["reader"]
        return reader["loans_summary"] if reader and reader["verified"] else None

    text = _wait_for(summary)
    months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
    day = rf"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{{1,2}} ({months}) \d{{4}}"
    relative = r"(due today|due tomorrow|due in \d+ days?|overdue by \d+ days?)"
    assert re.fullmatch(rf"\d+ on loan, next due {day} \({relative}\)(, \d+ overdue)?", text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
