"""Identity labels from what the channels record (issue 15): "Telegram @ada_reads",
"Slack Ada Okafor", "Web chat (Chrome, 1 visit)"; and the conversation's language.

At the protocol, against the whole system: a Telegram update through the webhook (the
Bot API stand-in), a signed Slack event (the Web API stand-in answers ``users.info``),
and a widget socket with a browser's User-Agent. The channels record the username,
display name and browser in the message metadata; ingestion stores it; the console's
:func:`identity_label` reads it from the reader store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.models import ChannelIdentity, Conversation
from handoff_console.services.identities import identity_label
from tests.connectors.test_slack import dm, new_user, replies
from tests.connectors.test_slack import post as slack_post
from tests.connectors.test_telegram import new_chat, text_update
from tests.connectors.test_telegram import post as telegram_post
from tests.live_console import wait_for
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.telegram_api import TelegramApiStandIn
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient

pytestmark = [pytest.mark.rasa, pytest.mark.workspace]

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def store(system: RunningSystem) -> Iterator[sessionmaker[Session]]:
    """Sessions on the running system's reader store."""
    sessions = make_session_factory(make_engine(system.database_url))
    yield sessions
    sessions.kw["bind"].dispose()


def label_of(store: sessionmaker[Session], channel: str, address: str, expected: str) -> str:
    """The identity's label once ingestion has stored what the channel recorded."""
    deadline = time.monotonic() + 30
    label = ""
    while time.monotonic() < deadline:
        with store() as session:
            identity = session.execute(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_id == address
                )
            ).scalar_one_or_none()
            if identity is not None:
                label = identity_label(session, identity)
                if label == expected:
                    return label
        time.sleep(0.2)
    return label


def test_telegram_records_the_username(
    system: RunningSystem, telegram_api: TelegramApiStandIn, store: sessionmaker[Session]
) -> None:
    chat = new_chat()
    update = text_update(chat, "hello")
    update["message"]["from"]["username"] = "ada_reads"
    assert telegram_post(system, update) == (200, {"status": "ok"})
    assert telegram_api.made("sendMessage", chat)
    expected = "Telegram @ada_reads"
    assert label_of(store, "telegram", chat, expected) == expected

    nameless = new_chat()
    assert telegram_post(system, text_update(nameless, "hello")) == (200, {"status": "ok"})
    expected = "Telegram (username not known)"
    assert label_of(store, "telegram", nameless, expected) == expected


def test_slack_records_the_display_name_asked_once(
    system: RunningSystem, slack_api: SlackApiStandIn, store: sessionmaker[Session]
) -> None:
    ada = new_user()
    slack_api.people[ada] = "Ada Okafor"
    assert slack_post(system, dm(ada, "hello"))[0] == 200
    replies(slack_api, ada)
    assert slack_post(system, dm(ada, "opening hours"))[0] == 200
    replies(slack_api, ada, 2)
    expected = "Slack Ada Okafor"
    assert label_of(store, "slack", ada, expected) == expected
    asked = [c for c in slack_api.made("users.info") if c.params.get("user") == ada]
    assert len(asked) == 1  # cached: one users.info per reader, not per message

    stranger = new_user()  # users.info answers user_not_found
    assert slack_post(system, dm(stranger, "hello"))[0] == 200
    replies(slack_api, stranger)
    expected = "Slack (name not known)"
    assert label_of(store, "slack", stranger, expected) == expected


def test_web_chat_records_the_browser(system: RunningSystem, store: sessionmaker[Session]) -> None:
    async def chat() -> str:
        widget = await WidgetClient(system.ws_url, {"User-Agent": CHROME}).connect()
        await widget.say("hello")
        # The NLU's language guard is sure of this one: the conversation is in Spanish.
        await widget.say("¿Dónde está el mostrador de préstamos? Quiero renovar mis libros")
        await widget.close()
        assert widget.session_id is not None
        return widget.session_id

    # Its own thread: a browser test in the same session may hold this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        sender_id = pool.submit(lambda: asyncio.run(chat())).result()
    expected = "Web chat (Chrome, 1 visit)"
    assert label_of(store, "webchat", sender_id, expected) == expected

    def language() -> str | None:
        with store() as session:
            return session.execute(
                select(Conversation.language).where(Conversation.sender_id == sender_id)
            ).scalar_one_or_none()

    assert wait_for(language, 30) == "es"
