"""The web widget channel against the real Rasa and action servers (started by ``launcher up``)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm_store.models import Message, SenderKind
from tests.aio import run as aio_run
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = pytest.mark.rasa

GREETING = "Hello! I'm the library assistant."


def run(coro: Any) -> Any:
    return aio_run(coro)


def tracker(system: RunningSystem, session_id: str) -> dict[str, Any]:
    url = f"{system.rasa_url}/conversations/{session_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def user_events(system: RunningSystem, session_id: str) -> list[dict[str, Any]]:
    return [e for e in tracker(system, session_id)["events"] if e["event"] == "user"]


def stored_messages(system: RunningSystem, session_id: str, expected: int) -> list[Message]:
    """Wait for live logging to write ``expected`` messages of a conversation."""
    engine = create_engine(system.database_url, future=True)
    deadline = time.monotonic() + 20
    try:
        while True:
            with Session(engine) as session:
                from crm_store.models import Conversation

                rows = (
                    session.execute(
                        select(Message)
                        .join(Conversation)
                        .where(Conversation.sender_id == session_id)
                        .order_by(Message.sent_at)
                    )
                    .scalars()
                    .all()
                )
            if len(rows) >= expected or time.monotonic() > deadline:
                return list(rows)
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_run_command_printed_the_urls(system: RunningSystem) -> None:
    printed = "\n".join(system.output)
    assert f"{system.console_url}/demo" in printed
    assert f"{system.console_url}/login" in printed
    assert "sam (librarian): " in printed  # demo accounts and their passwords are shown


def test_greeting_with_buttons_is_answered_and_logged(system: RunningSystem) -> None:
    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        client = await WidgetClient(system.ws_url).connect()
        frames = await client.say("hello <b>library</b>")
        await client.close()
        assert client.session_id
        return client.session_id, frames

    session_id, frames = run(scenario())
    kinds = [f["type"] for f in frames]
    assert kinds.count("ack") == 1 and kinds.index("ack") > kinds.index("bot")  # acked once saved
    bot = [f for f in frames if f["type"] == "bot"]
    assert bot[0]["text"].startswith(GREETING)
    assert [b["payload"] for b in bot[0]["buttons"]] == ["/library_hours", "/request_human"]
    messages = stored_messages(system, session_id, 2)
    assert [(m.sender_kind, m.text) for m in messages] == [
        (SenderKind.READER, "hello <b>library</b>"),
        (SenderKind.BOT, bot[0]["text"]),
    ]
    assert messages[0].intent == "greet" and messages[0].channel == "webchat"


def test_reconnect_restores_history_and_replays_only_what_was_missed(system: RunningSystem) -> None:
    async def scenario() -> None:
        first = await WidgetClient(system.ws_url).connect()
        await first.say("hi")
        await first.say("what are your opening hours")
        await first.close()
        reload = await WidgetClient(system.ws_url).connect(first.session_id, since=0)
        assert reload.session_id == first.session_id
        assert [m["type"] for m in reload.history] == ["reader", "bot", "reader", "bot"]
        assert reload.history[2]["text"] == "what are your opening hours"
        newest = reload.history[1]["ts"]
        await reload.close()
        replay = await WidgetClient(system.ws_url).connect(first.session_id, since=newest)
        assert [m["text"] for m in replay.history][0] == "what are your opening hours"
        assert len(replay.history) == 2
        await replay.close()

    run(scenario())


def test_bad_input_gets_errors_and_the_connection_stays_up(system: RunningSystem) -> None:
    async def scenario() -> None:
        client = await WidgetClient(system.ws_url).connect()
        await client.send("{not json")
        assert (await client.recv())["code"] == "malformed"
        too_long = await client.say("a" * 4001, message_id="long-1")
        assert too_long[-1]["type"] == "error" and too_long[-1]["code"] == "too_long"
        assert too_long[-1]["id"] == "long-1"
        await client.send({"type": "message", "id": "empty-1", "text": "   "})
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}  # the empty message produced nothing
        frames = await client.say("hello")
        assert bot_texts(frames)[0].startswith(GREETING)
        await client.close()
        assert client.session_id
        assert [e["text"] for e in user_events(system, client.session_id)] == ["hello"]

    run(scenario())


def test_typed_intent_shortcut_does_not_bypass_nlu_or_set_slots(system: RunningSystem) -> None:
    async def scenario() -> str:
        client = await WidgetClient(system.ws_url).connect()
        await client.say('/library_hours{"requested_slot": "pin"}')
        await client.close()
        assert client.session_id
        return client.session_id

    session_id = run(scenario())
    state = tracker(system, session_id)
    event = [e for e in state["events"] if e["event"] == "user"][-1]
    assert event["parse_data"]["intent"]["name"] != "library_hours"
    # NLU's own extractors may find words in the text; the shortcut's JSON sets nothing.
    assert "requested_slot" not in {e["entity"] for e in event["parse_data"]["entities"]}
    assert state["slots"].get("requested_slot") is None


def test_offered_buttons_work_and_forged_payloads_are_plain_text(system: RunningSystem) -> None:
    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        client = await WidgetClient(system.ws_url).connect()
        await client.say("hello")
        frames = await client.click("Opening hours", "/library_hours")
        await client.click("Bye", "/goodbye")  # never offered
        await client.close()
        assert client.session_id
        return client.session_id, frames

    session_id, frames = run(scenario())
    assert "Central" in bot_texts(frames)[0]  # the hours action answers for today
    events = user_events(system, session_id)
    assert events[1]["parse_data"]["intent"]["name"] == "library_hours"
    assert events[1]["metadata"]["display_text"] == "Opening hours"
    assert events[2]["text"] == "Bye"  # the title, as typed text, not the payload


def test_a_resent_message_is_processed_once(system: RunningSystem) -> None:
    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        client = await WidgetClient(system.ws_url).connect()
        await client.say("hello", message_id="dup-1")
        again = await client.say("hello", message_id="dup-1", resend=True)
        await client.close()
        assert client.session_id
        other_tab = await WidgetClient(system.ws_url).connect(client.session_id)
        resent = await other_tab.say("hello", message_id="dup-1", resend=True)
        await other_tab.close()
        return client.session_id, again + resent

    session_id, frames = run(scenario())
    assert [f["duplicate"] for f in frames if f["type"] == "ack"] == [True, True]
    assert len(user_events(system, session_id)) == 1


def test_proactive_messages_reach_the_open_widget(system: RunningSystem) -> None:
    async def scenario() -> dict[str, Any]:
        client = await WidgetClient(system.ws_url).connect()
        await client.say("hello")
        body = json.dumps(
            [
                {
                    "event": "bot",
                    "text": "Sam from the reference desk here.",
                    "metadata": {"librarian_name": "Sam"},
                }
            ]
        ).encode()
        url = (
            f"{system.rasa_url}/conversations/{client.session_id}/tracker/events"
            f"?execute_side_effects=true&output_channel=webchat&token={system.token}"
        )
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}
        )
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: urllib.request.urlopen(request, timeout=10).read()
        )
        frame = await client.recv_until("bot")
        await client.close()
        return frame

    frame = run(scenario())
    assert (frame["text"], frame["sender"], frame["name"]) == (
        "Sam from the reference desk here.",
        "librarian",
        "Sam",
    )


def test_rasa_http_api_refuses_requests_without_the_token(system: RunningSystem) -> None:
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{system.rasa_url}/conversations/x/tracker", timeout=10)
    assert error.value.code == 401
