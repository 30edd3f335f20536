"""Rate limits per client on a real widget socket and on signed Telegram and Slack webhooks.

One system (the README's run command, ``limited`` in ``conftest.py``) runs with small
limits, so that they are reached in a few messages; the tests' clients are the real protocol
clients of the channel tests. ``RIC_TRUSTED_PROXIES=127.0.0.1`` lets a test play several
client addresses through ``X-Forwarded-For``, as a reverse proxy would send it.

The limiter itself is checked with memory storage and against a real Redis (skipped
without one, except under ``CI``): many admissions at the same moment, from several
limiters as several Rasa servers would make them, never exceed a limit, and a message
refused by one scope, or refunded after admission, costs nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from messaging.rate_limits import RateLimits, slow_down_text
from tests.aio import run as run_async
from tests.conftest import require_service
from tests.connectors import test_slack as slack
from tests.connectors import test_telegram as telegram
from tests.standins.slack_api import SlackApiStandIn
from tests.standins.telegram_api import TelegramApiStandIn
from tests.system import RunningSystem
from tests.trust.conftest import CHAT_LIMIT, IP_LIMIT, SESSION_LIMIT
from tests.webchat_client import WidgetClient

pytestmark = pytest.mark.trust


def _address() -> str:
    return f"203.0.113.{random.randint(1, 254)}"


async def _burst(client: WidgetClient, count: int) -> dict[str, dict[str, Any]]:
    """Send ``count`` messages at once; the final frame about each (ack or error)."""
    ids = [f"burst-{n}-{uuid.uuid4().hex[:6]}" for n in range(count)]
    for message_id in ids:
        await client.send({"type": "message", "id": message_id, "text": "what are your hours"})
    outcome: dict[str, dict[str, Any]] = {}
    while len(outcome) < count:
        frame = await client.recv(timeout=120)
        if frame["type"] in ("ack", "error") and frame.get("id") in ids:
            outcome[frame["id"]] = frame
    return {message_id: outcome[message_id] for message_id in ids}


@pytest.mark.rasa
def test_a_widget_conversation_over_its_limit_is_asked_to_slow_down(
    limited: RunningSystem,
) -> None:
    async def scenario() -> tuple[str, dict[str, dict[str, Any]]]:
        client = await WidgetClient(limited.ws_url, {"X-Forwarded-For": _address()}).connect()
        outcome = await _burst(client, SESSION_LIMIT + 2)
        await client.close()
        assert client.session_id
        return client.session_id, outcome

    session_id, outcome = run_async(scenario())
    frames = list(outcome.values())
    accepted = [f for f in frames if f["type"] == "ack"]
    refused = [f for f in frames if f["type"] == "error"]
    # Everything accepted before the limit is answered; the rest is refused, never lost.
    assert [f["duplicate"] for f in accepted] == [False] * SESSION_LIMIT
    assert [f["code"] for f in refused] == ["slow_down", "slow_down"]
    for frame in refused:
        assert 1 <= frame["retry_after"] <= 60
        assert frame["message"] == slow_down_text(frame["retry_after"])
    in_tracker = [e["message_id"] for e in telegram.user_events(limited, session_id)]
    assert in_tracker == [f["id"] for f in accepted]


@pytest.mark.rasa
def test_one_client_address_over_its_limit_is_refused_and_another_is_not(
    limited: RunningSystem,
) -> None:
    address = _address()

    async def scenario() -> tuple[list[str], list[str]]:
        codes = []
        for _ in range(IP_LIMIT // 2 + 1):  # a new conversation each time, same address
            client = await WidgetClient(limited.ws_url, {"X-Forwarded-For": address}).connect()
            codes += [f.get("code", "ok") for f in (await _burst(client, 2)).values()]
            await client.close()
        other = await WidgetClient(limited.ws_url, {"X-Forwarded-For": _address()}).connect()
        other_codes = [f.get("code", "ok") for f in (await _burst(other, 1)).values()]
        await other.close()
        return codes, other_codes

    codes, other_codes = run_async(scenario())
    assert codes == ["ok"] * IP_LIMIT + ["slow_down", "slow_down"]
    assert other_codes == ["ok"]


@pytest.mark.rasa
def test_a_telegram_chat_over_its_limit_gets_one_polite_reply(
    limited: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = telegram.new_chat()
    statuses = [
        telegram.post(limited, telegram.text_update(chat, f"hello {n}"))
        for n in range(CHAT_LIMIT + 2)
    ]
    assert statuses == [(200, {"status": "ok"})] * (CHAT_LIMIT + 2)
    sent = [call.params["text"] for call in telegram_api.made("sendMessage", chat)]
    notices = [text for text in sent if text.startswith("You're sending messages faster")]
    assert len(notices) == 1  # one notice a minute, however long the flood
    assert len(sent) == CHAT_LIMIT + 1  # a greeting per accepted message, and the notice
    assert len(telegram.user_events(limited, chat)) == CHAT_LIMIT


@pytest.mark.rasa
def test_a_slack_user_over_the_limit_gets_one_polite_reply(
    limited: RunningSystem, slack_api: SlackApiStandIn
) -> None:
    user = slack.new_user()
    for n in range(CHAT_LIMIT + 2):
        assert slack.post(limited, slack.dm(user, f"hello {n}"))[0] == 200
    assert len(slack.tracker_events(limited, user, "user", CHAT_LIMIT)) == CHAT_LIMIT
    posted = slack.replies(slack_api, user, CHAT_LIMIT + 1)
    texts = [call.params.get("text", "") for call in posted]
    assert sum(text.startswith("You're sending messages faster") for text in texts) == 1
    assert len(slack.tracker_events(limited, user, "user")) == CHAT_LIMIT


def _redis_problem(host: str = "127.0.0.1", port: int = 6379) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return None
    except OSError as error:
        return str(error)


def test_the_redis_storage_shares_counts_between_limiters() -> None:
    url = os.environ.get("RIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require_service("Redis", _redis_problem())
    key = uuid.uuid4().hex
    first = RateLimits({"session": "2/minute"}, url)
    second = RateLimits({"session": "2/minute"}, url)  # another Rasa server, same Redis
    assert run_async(first.admit({"session": key})).allowed
    assert run_async(second.admit({"session": key})).allowed
    refused = run_async(first.admit({"session": key}))
    assert (refused.allowed, refused.scope) == (False, "session")
    assert 1 <= refused.retry_after <= 60


def test_memory_limits_refuse_without_counting_and_name_the_scope() -> None:
    limits = RateLimits({"session": "2/minute", "ip": "3/minute"})
    keys = {"session": "a", "ip": "x"}
    assert [limits.admit_now(keys).allowed for _ in range(3)] == [True, True, False]
    assert limits.admit_now({"session": "b", "ip": "x"}).allowed  # third for address x
    refused = limits.admit_now({"session": "c", "ip": "x"})
    assert (refused.allowed, refused.scope) == (False, "ip")
    with pytest.raises(ValueError, match="RIC_X: 'lots' is not a rate limit"):
        RateLimits({"session": "lots"}, variables={"session": "RIC_X"})
    with pytest.raises(ValueError, match="RIC_RATE_LIMIT_STORAGE"):
        RateLimits({"session": "1/minute"}, "nowhere://")


def _storage(kind: str) -> str:
    """A ``limits`` storage URI of ``kind``; Redis skips without a server (not under CI)."""
    if kind == "memory":
        return "memory://"
    require_service("Redis", _redis_problem())
    return os.environ.get("RIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _at_once(limiters: list[RateLimits], keys: list[dict[str, str]]) -> list[bool]:
    """Admit one message per ``keys`` entry, all at the same moment; whether each got in.

    Memory storage is asked on the event loop (as the channels do: no await, so one at a
    time); Redis from one thread per message, released together by a barrier, each
    through one of ``limiters`` (separate connections, like several Rasa servers).
    """
    if limiters[0].in_memory:

        async def together() -> list[bool]:
            decisions = await asyncio.gather(*(limiters[0].admit(k) for k in keys))
            return [decision.allowed for decision in decisions]

        return run_async(together())
    barrier = threading.Barrier(len(keys))

    def admit(n: int) -> bool:
        barrier.wait()
        return limiters[n % len(limiters)].admit_now(keys[n]).allowed

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        return list(pool.map(admit, range(len(keys))))


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_concurrent_admissions_never_exceed_the_limit(kind: str) -> None:
    url = _storage(kind)
    limiters = [
        RateLimits({"session": "5/minute"}, url) for _ in range(3 if kind == "redis" else 1)
    ]
    session = uuid.uuid4().hex
    allowed = _at_once(limiters, [{"session": session}] * 40)
    assert sum(allowed) == 5


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_message_refused_by_one_scope_costs_nothing_in_the_others(kind: str) -> None:
    url = _storage(kind)
    limiters = [
        RateLimits({"session": "5/minute", "ip": "8/minute"}, url)
        for _ in range(3 if kind == "redis" else 1)
    ]
    address = uuid.uuid4().hex
    keys = [{"session": uuid.uuid4().hex, "ip": address} for _ in range(40)]
    allowed = _at_once(limiters, keys)
    assert sum(allowed) == 8  # the address's limit; no conversation's was near
    limiter = limiters[0].limiter
    item = limiters[0].scopes["session"][0]
    remaining = [limiter.get_window_stats(item, "session", k["session"])[1] for k in keys]
    # Admitted conversations used one of their 5; refused ones were given theirs back.
    assert remaining == [4 if ok else 5 for ok in allowed]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_refund_gives_back_one_message(kind: str) -> None:
    limits = RateLimits({"session": "3/minute", "ip": "10/minute"}, _storage(kind))
    keys = {"session": uuid.uuid4().hex, "ip": uuid.uuid4().hex}
    assert [run_async(limits.admit(keys)).allowed for _ in range(4)] == [True] * 3 + [False]
    run_async(limits.refund(keys))  # e.g. the conversation's line was full
    assert [run_async(limits.admit(keys)).allowed for _ in range(2)] == [True, False]
    ip = limits.scopes["ip"][0]
    assert limits.limiter.get_window_stats(ip, "ip", keys["ip"])[1] == 10 - 3
