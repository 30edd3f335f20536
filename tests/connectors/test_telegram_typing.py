"""A librarian's typing shown in the reader's Telegram chat (issue 15, Telegram side).

The real console runs on a SQLite store with its Telegram client pointed at the Bot
API stand-in (``tests/standins/telegram_api.py``); the tests call the console's typing
endpoint exactly as the conversation page does and check the ``sendChatAction`` calls
the stand-in received. The endpoint waits for its Bot API call, so once it has
answered, the stand-in has recorded whatever was sent.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.repositories import open_handoff
from crm_store.typing_signals import TYPING_SECONDS
from handoff_console.accounts import create_staff, issue_api_token
from messaging.telegram_typing import EVERY_SECONDS, TelegramTyping
from tests.aio import run
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.standins.telegram_api import TelegramApiStandIn
from tests.standins.telegram_env import TELEGRAM_TOKEN
from tests.system import free_port

pytestmark = pytest.mark.workspace

_chat_ids = itertools.count(random.randint(100_000_000, 900_000_000))


@dataclass
class Desk:
    """A console with two librarians, Sam and Maria, on its own store."""

    console: ConsoleServer
    sessions: sessionmaker[Session]
    sam: ApiClient
    maria: ApiClient

    def handoff(self, channel: str = "telegram") -> tuple[int, str]:
        """A conversation waiting for a librarian on ``channel``: its id and chat id."""
        chat = str(next(_chat_ids)) if channel == "telegram" else f"web-{uuid.uuid4().hex[:8]}"
        event = {
            "event": "user",
            "text": "Can I talk to a librarian?",
            "timestamp": time.time() - 5,
            "input_channel": channel,
            "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}},
        }
        with self.sessions.begin() as session:
            ingest(session, [RasaEvent(chat, event)], "test")
            handoff, _ = open_handoff(session, sender_id=chat, channel=channel, reason="asked")
            return int(handoff.conversation_id), chat

    def claimed(self, channel: str = "telegram") -> tuple[int, str]:
        """A conversation on ``channel`` that Sam holds."""
        conversation_id, chat = self.handoff(channel)
        assert self.sam.post(f"/api/conversations/{conversation_id}/claim").status == 200
        return conversation_id, chat


def _typing(client: ApiClient, conversation_id: int, on: bool = True) -> None:
    """Report typing as the conversation page does; the answer never changes."""
    reply = client.post(f"/api/conversations/{conversation_id}/typing", {"on": on})
    assert reply.status == 200, reply.text
    assert reply.json() == {
        "conversation_id": conversation_id,
        "on": on,
        "expires_in_seconds": TYPING_SECONDS if on else 0.0,
    }


def _desk(directory: Path, api_base_url: str) -> Desk:
    url = f"sqlite:///{directory / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    tokens = {}
    with sessions.begin() as session:
        for username, name in (("sam", "Sam Reyes"), ("maria", "Maria Lopez")):
            user = create_staff(
                session,
                username=username,
                password=f"{username}-typing-passphrase",
                role="librarian",
                display_name=name,
                capacity=20,
            )
            tokens[username] = issue_api_token(session, user.id, "typing tests")
    env = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE_URL": api_base_url}
    console = start_console(url, directory / "console.log", extra_env=env)
    return Desk(
        console, sessions, ApiClient(console, tokens["sam"]), ApiClient(console, tokens["maria"])
    )


@pytest.fixture(scope="module")
def desk(
    tmp_path_factory: pytest.TempPathFactory, telegram_api: TelegramApiStandIn
) -> Iterator[Desk]:
    """The console, its Telegram client pointed at the stand-in."""
    running = _desk(tmp_path_factory.mktemp("telegram-typing"), telegram_api.base_url)
    yield running
    running.console.stop()
    running.sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def desk_without_telegram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The console, its Telegram client pointed at a port nobody listens on."""
    running = _desk(tmp_path_factory.mktemp("telegram-down"), f"http://127.0.0.1:{free_port()}")
    yield running
    running.console.stop()
    running.sessions.kw["bind"].dispose()


def test_typing_shows_in_the_chat_at_most_once_per_window(
    desk: Desk, telegram_api: TelegramApiStandIn
) -> None:
    conversation_id, chat = desk.claimed()
    assert telegram_api.made("sendChatAction", chat) == []

    # The page reports typing every 2.5 s; calls inside the window send nothing more.
    for _ in range(3):
        _typing(desk.sam, conversation_id)
    calls = telegram_api.made("sendChatAction", chat)
    assert [(c.token, c.params["action"]) for c in calls] == [(TELEGRAM_TOKEN, "typing")]

    # Stopping sends nothing (Telegram has no "stopped typing"; it fades on its own).
    _typing(desk.sam, conversation_id, on=False)
    assert len(telegram_api.made("sendChatAction", chat)) == 1

    # Typing that goes on past the window shows again.
    time.sleep(EVERY_SECONDS + 0.5)
    _typing(desk.sam, conversation_id)
    _typing(desk.sam, conversation_id)
    calls = telegram_api.made("sendChatAction", chat)
    assert [c.params["action"] for c in calls] == ["typing", "typing"]


def test_each_chat_has_its_own_window(desk: Desk, telegram_api: TelegramApiStandIn) -> None:
    first, first_chat = desk.claimed()
    second, second_chat = desk.claimed()
    _typing(desk.sam, first)
    _typing(desk.sam, second)
    _typing(desk.sam, first)
    assert len(telegram_api.made("sendChatAction", first_chat)) == 1
    assert len(telegram_api.made("sendChatAction", second_chat)) == 1


def test_only_a_telegram_chat_with_a_librarian_sees_typing(
    desk: Desk, telegram_api: TelegramApiStandIn
) -> None:
    # Waiting: nobody holds the handoff yet, as on the web chat.
    conversation_id, chat = desk.handoff()
    _typing(desk.maria, conversation_id)
    assert telegram_api.made("sendChatAction", chat) == []
    assert desk.maria.post(f"/api/conversations/{conversation_id}/claim").status == 200
    _typing(desk.maria, conversation_id)
    assert len(telegram_api.made("sendChatAction", chat)) == 1

    # Another channel's conversation never reaches the Bot API.
    web_id, web_chat = desk.claimed("webchat")
    before = len(telegram_api.made("sendChatAction"))
    _typing(desk.sam, web_id)
    assert len(telegram_api.made("sendChatAction")) == before
    assert telegram_api.made("sendChatAction", web_chat) == []


def test_a_chat_that_refuses_is_logged_and_the_console_goes_on(
    desk: Desk, telegram_api: TelegramApiStandIn
) -> None:
    conversation_id, chat = desk.claimed()
    telegram_api.blocked_chats.add(chat)
    try:
        _typing(desk.sam, conversation_id)
    finally:
        telegram_api.blocked_chats.discard(chat)
    assert len(telegram_api.made("sendChatAction", chat)) == 1
    assert "Telegram refused or failed a typing indicator: Forbidden" in desk.console.log()
    # The conversation goes on as before: the view answers, a note is stored.
    assert desk.sam.get(f"/api/conversations/{conversation_id}").status == 200
    note = desk.sam.post(f"/api/conversations/{conversation_id}/notes", {"body": "blocked?"})
    assert note.status == 201, note.text


def test_a_bot_api_that_is_down_never_breaks_typing(desk_without_telegram: Desk) -> None:
    desk = desk_without_telegram
    conversation_id, _ = desk.claimed()
    _typing(desk.sam, conversation_id)
    _typing(desk.sam, conversation_id, on=False)
    assert desk.console.log().count("Telegram refused or failed a typing indicator") == 1
    assert desk.sam.get(f"/api/conversations/{conversation_id}").status == 200


def test_without_a_bot_token_nothing_is_sent(telegram_api: TelegramApiStandIn) -> None:
    relay = TelegramTyping("", telegram_api.base_url)
    chat = str(next(_chat_ids))
    assert relay.enabled is False
    assert run(relay.show(chat)) is False
    assert telegram_api.made("sendChatAction", chat) == []

    async def twice() -> list[bool]:
        relay = TelegramTyping(TELEGRAM_TOKEN, telegram_api.base_url)
        try:
            return [await relay.show(chat), await relay.show(chat)]
        finally:
            await relay.close()

    assert run(twice()) == [True, False]
    assert [c.params["action"] for c in telegram_api.made("sendChatAction", chat)] == ["typing"]
