"""The Telegram channel at the protocol level: webhook calls in, Bot API calls out.

The system fixture runs the real Rasa and action servers with the channel pointed at
the Bot API stand-in (``tests/standins/telegram_api.py``); these tests post updates
to the webhook exactly as Telegram does and check the exact requests the bot sent.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from connectors.platform_input import UNKNOWN_BUTTON_TEXT, too_long_text
from connectors.telegram.channel import NOT_TEXT_TEXT
from connectors.telegram.render import MAX_CALLBACK_BYTES, callback_data_for
from tests.standins.telegram_api import TelegramApiStandIn
from tests.standins.telegram_env import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.system import ROOT, RunningSystem

pytestmark = pytest.mark.rasa

GREETING = "Hello! I'm the library assistant."
_update_ids = itertools.count(random.randint(10_000_000, 90_000_000))
_chat_ids = itertools.count(random.randint(100_000_000, 900_000_000))


def new_chat() -> str:
    return str(next(_chat_ids))


def text_update(chat_id: str, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": {
            "message_id": random.randint(1, 10**6),
            "date": 1_800_000_000,
            "chat": {"id": int(chat_id), "type": "private", "first_name": "Ada"},
            "from": {"id": int(chat_id), "is_bot": False, "first_name": "Ada"},
            "text": text,
        },
    }


def callback_update(chat_id: str, data: str, keyboard: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": random.randint(1, 10**6),
        "date": 1_800_000_000,
        "chat": {"id": int(chat_id), "type": "private"},
        "text": "(the bot's message)",
    }
    if keyboard is not None:
        message["reply_markup"] = keyboard
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cq-{random.randint(1, 10**9)}",
            "from": {"id": int(chat_id), "is_bot": False, "first_name": "Ada"},
            "chat_instance": "42",
            "data": data,
            "message": message,
        },
    }


def post(
    system: RunningSystem,
    body: bytes | dict[str, Any],
    secret: str | None = TELEGRAM_SECRET,
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"{system.rasa_url}/webhooks/telegram/webhook", data=data, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def user_events(system: RunningSystem, sender_id: str) -> list[dict[str, Any]]:
    url = f"{system.rasa_url}/conversations/{sender_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return [e for e in json.loads(reply.read())["events"] if e["event"] == "user"]


def send_proactively(
    system: RunningSystem, chat: str, text: str, buttons: list[dict[str, str]]
) -> None:
    """Append a librarian's message as the console does, delivered through Telegram."""
    events = [
        {"event": "bot", "text": text, "data": {"buttons": buttons}, "metadata": {"by": "sam"}}
    ]
    url = (
        f"{system.rasa_url}/conversations/{chat}/tracker/events"
        f"?execute_side_effects=true&output_channel=telegram&token={system.token}"
    )
    request = urllib.request.Request(
        url, data=json.dumps(events).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200


def test_a_text_message_is_answered_with_an_inline_keyboard(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    assert post(system, text_update(chat, "hello <b>library</b>")) == (200, {"status": "ok"})
    [sent] = telegram_api.made("sendMessage", chat)
    assert sent.token == TELEGRAM_TOKEN
    assert sent.params["text"].startswith(GREETING)
    assert "parse_mode" not in sent.params  # plain text: reader markup cannot break a message
    assert sent.json("reply_markup") == {
        "inline_keyboard": [
            [{"text": "Opening hours", "callback_data": "/library_hours"}],
            [{"text": "Talk to a librarian", "callback_data": "/request_human"}],
        ]
    }
    [event] = user_events(system, chat)
    assert event["text"] == "hello <b>library</b>"
    assert event["input_channel"] == "telegram"
    assert event["parse_data"]["intent"]["name"] == "greet"


def test_start_command_greets_and_a_photo_gets_a_clear_reply(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    assert post(system, text_update(chat, "/start"))[0] == 200
    assert telegram_api.made("sendMessage", chat)[0].params["text"].startswith(GREETING)
    photo = text_update(chat, "")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    assert post(system, photo)[0] == 200
    assert telegram_api.made("sendMessage", chat)[-1].params["text"] == NOT_TEXT_TEXT
    assert len(user_events(system, chat)) == 1


def test_a_button_press_is_answered_and_processed(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    post(system, text_update(chat, "hi"))
    keyboard = telegram_api.made("sendMessage", chat)[0].json("reply_markup")
    update = callback_update(chat, "/library_hours", keyboard)
    assert post(system, update) == (200, {"status": "ok"})
    [answered] = telegram_api.made("answerCallbackQuery")[-1:]
    assert answered.params == {"callback_query_id": update["callback_query"]["id"]}
    replies = telegram_api.made("sendMessage", chat)
    assert len(replies) >= 2 and "reply_markup" not in replies[1].params
    events = user_events(system, chat)
    assert events[-1]["text"] == "/library_hours"
    assert events[-1]["parse_data"]["intent"]["name"] == "library_hours"
    assert events[-1]["metadata"]["display_text"] == "Opening hours"


def test_catalogue_results_use_short_callback_keys_that_resolve_to_the_payload(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    post(system, text_update(chat, "do you have the hobbit"))
    [results] = telegram_api.made("sendMessage", chat)
    assert "• The Hobbit" in results.params["text"]
    rows = results.json("reply_markup")["inline_keyboard"]
    keys = [row[0]["callback_data"] for row in rows]
    assert rows[0][0]["text"].startswith("Reserve: The Hobbit")
    assert all(len(key.encode()) <= MAX_CALLBACK_BYTES for key in keys)
    assert all(key.startswith(("k:", "/place_hold{")) for key in keys)
    update = callback_update(chat, keys[0], {"inline_keyboard": rows})
    assert post(system, update)[0] == 200
    assert telegram_api.made("answerCallbackQuery")[-1].params == {
        "callback_query_id": update["callback_query"]["id"]
    }
    pressed = user_events(system, chat)[-1]
    assert pressed["text"].startswith('/place_hold{"record_id": ')
    assert pressed["parse_data"]["intent"]["name"] == "place_hold"


def test_a_payload_over_64_bytes_travels_as_a_key_and_comes_back_whole(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    post(system, text_update(chat, "hello"))
    payload = '/thank{"note": "a deliberately long payload, longer than sixty-four bytes"}'
    send_proactively(system, chat, "Was this helpful?", [{"title": "Yes", "payload": payload}])
    [[button]] = telegram_api.made("sendMessage", chat)[-1].json("reply_markup")["inline_keyboard"]
    assert button == {"text": "Yes", "callback_data": callback_data_for(payload)}
    assert button["callback_data"].startswith("k:")
    assert post(system, callback_update(chat, button["callback_data"]))[0] == 200
    pressed = user_events(system, chat)[-1]
    assert pressed["text"] == payload
    assert pressed["parse_data"]["intent"]["name"] == "thank"


def test_an_unknown_callback_is_answered_and_explained(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    post(system, text_update(chat, "hi"))
    for data in ("k:0123456789abcdef0123456789abcdef", '/place_hold{"record_id": "x"}'):
        update = callback_update(chat, data)
        assert post(system, update)[0] == 200
        assert telegram_api.made("answerCallbackQuery")[-1].params == {
            "callback_query_id": update["callback_query"]["id"],
            "text": "That button has expired.",
        }
        assert telegram_api.made("sendMessage", chat)[-1].params["text"] == UNKNOWN_BUTTON_TEXT
    assert len(user_events(system, chat)) == 1


def test_a_repeated_update_id_is_processed_once(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    update = text_update(chat, "hello")
    assert post(system, update) == (200, {"status": "ok"})
    assert post(system, update) == (200, {"status": "duplicate"})
    assert len(telegram_api.made("sendMessage", chat)) == 1
    assert len(user_events(system, chat)) == 1
    assert receipts(system, "telegram", str(update["update_id"])) == 1  # survives restarts


def receipts(system: RunningSystem, channel: str, external_id: str) -> int:
    """How many times the reader store recorded a delivery id."""
    from sqlalchemy import create_engine, func, select

    from crm_store.models.operations import InboundReceipt

    engine = create_engine(system.database_url, future=True)
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(
                InboundReceipt.channel == channel, InboundReceipt.external_id == external_id
            )
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_missing_or_wrong_secret_is_refused(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    status, body = post(system, text_update(chat, "hello"), secret=None)
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = post(system, text_update(chat, "hello"), secret=TELEGRAM_SECRET + "x")
    assert (status, body["error"]) == (403, "forbidden")
    assert telegram_api.made("sendMessage", chat) == []


def test_malformed_bodies_get_400(system: RunningSystem) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"message": {"text": "no update id"}}', b""):
        status, reply = post(system, body)
        assert (status, reply["error"]) == (400, "malformed")
    assert post(system, b"{not json", secret="wrong")[0] == 403  # the secret is checked first


def test_an_oversized_message_gets_a_clear_reply(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    assert post(system, text_update(chat, "a" * 4001))[0] == 200
    [reply] = telegram_api.made("sendMessage", chat)
    assert reply.params["text"] == too_long_text(4001, 4000)
    assert user_events(system, chat) == []


def test_proactive_messages_are_sent_through_the_bot_api(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    post(system, text_update(chat, "hello"))
    text = "Hi, this is Sam from the library: your book <is> ready & waiting."
    send_proactively(system, chat, text, [{"title": "Thanks!", "payload": "/thank"}])
    sent = telegram_api.made("sendMessage", chat)[-1]
    assert sent.params["text"] == text
    assert sent.json("reply_markup") == {
        "inline_keyboard": [[{"text": "Thanks!", "callback_data": "/thank"}]]
    }


def _run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m connectors.telegram ARGS`` as an operator would."""
    command = [sys.executable, "-m", "connectors.telegram", *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_set_webhook_command_registers_url_secret_and_update_kinds(
    telegram_api: TelegramApiStandIn,
) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram_api.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://library.example/webhooks/telegram/webhook",
    }
    done = _run_command(env, "set-webhook")
    assert done.returncode == 0, done.stderr
    assert "webhook of @ric_test_bot set to https://library.example/" in done.stdout
    [call] = telegram_api.made("setWebhook")[-1:]
    assert call.params["url"] == "https://library.example/webhooks/telegram/webhook"
    assert call.params["secret_token"] == TELEGRAM_SECRET
    assert json.loads(call.params["allowed_updates"]) == ["message", "callback_query"]
    info = _run_command(env, "info")
    assert "webhook url: https://library.example/webhooks/telegram/webhook" in info.stdout


def console_api(system: RunningSystem, name: str) -> tuple[Any, Any]:
    """A librarian's API client on the running system's console, and store sessions."""
    from pathlib import Path

    from crm_store.db import make_engine, make_session_factory
    from handoff_console.accounts import create_staff, issue_api_token
    from tests.handoff_console.conftest import ApiClient
    from tests.handoff_console.console_server import ConsoleServer

    sessions = make_session_factory(make_engine(system.database_url))
    with sessions.begin() as session:
        staff = create_staff(
            session,
            username=f"{name}{random.randint(1, 10**9)}",
            password="channel-test-passphrase-1",
            display_name=f"Robin {name.title()}",
            capacity=20,
        )
        token = issue_api_token(session, staff.id, f"{name} tests")
    console = ConsoleServer(None, system.console_port, Path("/dev/null"))  # type: ignore[arg-type]
    return ApiClient(console, token), sessions


def conversation_id_of(sessions: Any, sender_id: str) -> int:
    """Wait for the worker to ingest the conversation; return its id in the store."""
    import time

    from crm_store.repositories import conversation_of

    deadline = time.monotonic() + 30
    while True:
        with sessions() as session:
            conversation = conversation_of(session, sender_id)
            if conversation is not None or time.monotonic() > deadline:
                assert conversation is not None, f"conversation {sender_id} was not ingested"
                return int(conversation.id)
        time.sleep(0.2)


def test_a_handoff_started_on_telegram_is_answered_from_the_console(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    import time

    api, sessions = console_api(system, "telegram")
    chat = new_chat()
    post(system, text_update(chat, "I'd like to talk to a librarian please"))
    texts = [c.params["text"] for c in telegram_api.made("sendMessage", chat)]
    assert any("asked a librarian to join" in t for t in texts), texts
    conversation_id = conversation_id_of(sessions, chat)
    queue = api.get("/api/queue").json()["items"]
    item = next(i for i in queue if i["conversation_id"] == conversation_id)
    assert (item["status"], item["channel"]) == ("waiting", "telegram")
    assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
    # The librarian's typing shows in the chat (the console calls the Bot API itself).
    assert api.post(f"/api/conversations/{conversation_id}/typing", {"on": True}).status == 200
    typing = telegram_api.made("sendChatAction", chat)
    assert [c.params["action"] for c in typing] == ["typing"]
    text = "Hello, I'm Robin. <b>Which</b> book & which branch?"
    sent = api.post(f"/api/conversations/{conversation_id}/messages", {"text": text})
    assert sent.status == 201, sent.text
    assert telegram_api.made("sendMessage", chat)[-1].params["text"] == text
    post(system, text_update(chat, "The Hobbit, at Central <please>"))
    deadline = time.monotonic() + 30
    readers: list[str] = []
    while "The Hobbit, at Central <please>" not in readers and time.monotonic() < deadline:
        view = api.get(f"/api/conversations/{conversation_id}").json()
        readers = [m["text"] for m in view["messages"] if m["sender_kind"] == "reader"]
        time.sleep(0.2)
    assert readers[-1] == "The Hobbit, at Central <please>"


def test_a_reader_who_blocked_the_bot_is_marked_unreachable_until_they_write_again(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    from sqlalchemy import select

    from crm_store.db import make_engine, make_session_factory
    from crm_store.models import ChannelIdentity

    sessions = make_session_factory(make_engine(system.database_url))

    def reachable(chat: str) -> bool | None:
        with sessions() as session:
            return session.execute(
                select(ChannelIdentity.reachable).where(
                    ChannelIdentity.channel == "telegram", ChannelIdentity.external_id == chat
                )
            ).scalar_one_or_none()

    def wait_until(chat: str, expected: bool) -> None:
        deadline = time.monotonic() + 20
        while reachable(chat) is not expected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reachable(chat) is expected

    chat = new_chat()
    post(system, text_update(chat, "hello"))
    wait_until(chat, True)  # ingestion created the reader's Telegram identity

    telegram_api.blocked_chats.add(chat)
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            send_proactively(system, chat, "Your hold is ready", [])
        assert refused.value.code == 500  # Rasa reports the failed delivery to the sender
        wait_until(chat, False)
    finally:
        telegram_api.blocked_chats.discard(chat)

    assert post(system, text_update(chat, "sorry, I'm back"))[0] == 200
    wait_until(chat, True)


@pytest.mark.defects
def test_a_lone_surrogate_nul_and_c1_never_reach_rasa(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()
    update = text_update(chat, "hello \ud800 open?\x00\x88 now\x1b")
    body = json.dumps(update).encode()  # the surrogate travels as the JSON escape "\ud800"
    assert b"\\ud800" in body
    assert post(system, body) == (200, {"status": "ok"})
    [event] = user_events(system, chat)
    assert event["text"] == "hello \ufffd open? now"
    assert len(telegram_api.made("sendMessage", chat)) >= 1  # and the reader was answered
