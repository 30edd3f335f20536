"""Telegram and Slack webhooks under Hypothesis: signed requests to the real handlers.

A small Sanic server (its own process) mounts the real ``TelegramInput`` and
``SlackInput`` with Rasa's ``register``, configured with secrets and pointed at the
Bot API and Web API stand-ins; in place of Rasa's agent, a recorder writes each
message Rasa would get to a file. Hypothesis sends correctly signed requests whose
bodies carry random unicode (NUL, lone surrogates as JSON escapes, RTL overrides,
zero-width), oversized fields and wrong types. Every answer is a defined status with
a JSON body (never a 5xx or a traceback), and no message handed on holds a NUL, a
control character or a lone surrogate (issue 18, item 4).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_store.migrate import upgrade
from tests.standins.slack_api import BOT_USER_ID, TEAM_ID
from tests.standins.slack_env import SLACK_SIGNING_SECRET
from tests.standins.telegram_env import TELEGRAM_SECRET
from tests.system import ROOT, free_port
from tests.trust.test_fuzz_channel_inputs import JSON_VALUE, LONG_TEXT, TEXT, UNSAFE

pytestmark = pytest.mark.trust

QUICK = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

SERVER = """
import json, sys
from rasa.core.channels.channel import register
from sanic import Sanic
from connectors.slack import SlackInput
from connectors.telegram import TelegramInput

handed_on = open(sys.argv[2], "a", encoding="utf-8")

class Agent:  # stands in for Rasa's agent: register() hands it each message

    async def handle_message(self, message):
        line = json.dumps({"channel": message.input_channel, "text": message.text})
        handed_on.write(line + "\\n")
        handed_on.flush()

app = Sanic("fuzzed_channels")
app.ctx.agent = Agent()
channels = [TelegramInput.from_credentials({}), SlackInput.from_credentials({})]
register(channels, app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


@dataclass
class Channels:
    url: str
    handed_on: Path
    log: Path

    def messages(self) -> list[dict[str, Any]]:
        if not self.handed_on.exists():
            return []
        return [json.loads(line) for line in self.handed_on.read_text().splitlines()]


@pytest.fixture(scope="module")
def channels(
    tmp_path_factory: pytest.TempPathFactory,
    telegram_system_env: dict[str, str],
    slack_system_env: dict[str, str],
) -> Iterator[Channels]:
    folder = tmp_path_factory.mktemp("fuzzed-channels")
    database = f"sqlite:///{folder / 'crm.db'}"
    upgrade(database)
    port = free_port()
    env = {
        **os.environ,
        **telegram_system_env,
        **slack_system_env,
        "PYTHONPATH": str(ROOT),
        "RIC_DATABASE_URL": database,
        "RIC_RATE_LIMIT_ENABLED": "false",
    }
    log = folder / "server.log"
    handed_on = folder / "handed_on.jsonl"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), str(handed_on)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/webhooks/telegram/", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the channel server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    yield Channels(url, handed_on, log)
    process.terminate()
    process.wait(30)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def encoded(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate travels as the JSON escape \\ud800, as a client sends it
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def assert_defined(status: int, text: str) -> None:
    assert status < 500, text[:500]
    assert isinstance(json.loads(text), dict), text[:500]


_ids = iter(range(10**9, 2 * 10**9))


@st.composite
def telegram_updates(draw: st.DrawFn) -> Any:
    text = draw(st.one_of(TEXT, LONG_TEXT, JSON_VALUE))
    chat = draw(st.one_of(st.integers(1, 10**12), JSON_VALUE))
    message = {
        "message_id": draw(st.one_of(st.integers(1, 10**6), JSON_VALUE)),
        "date": 1_800_000_000,
        "chat": {"id": chat, "type": "private", "first_name": draw(TEXT)},
        "from": {"id": 42, "is_bot": False, "first_name": draw(TEXT)},
        "text": text,
    }
    update = {"update_id": next(_ids), "message": message}
    if draw(st.integers(0, 4)) == 0:
        return draw(JSON_VALUE)  # not an update at all
    return update


@QUICK
@given(update=telegram_updates())
def test_telegram_updates_get_a_defined_answer(channels: Channels, update: Any) -> None:
    status, text = post(
        f"{channels.url}/webhooks/telegram/webhook",
        encoded(update),
        {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert_defined(status, text)
    assert status in {200, 400}, text[:300]


def slack_signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(
        SLACK_SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256
    ).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@st.composite
def slack_events(draw: st.DrawFn) -> Any:
    n = next(_ids)
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": f"D{n}",
        "user": draw(st.one_of(st.just(f"U{n}"), JSON_VALUE)),
        "text": draw(st.one_of(TEXT, LONG_TEXT, JSON_VALUE)),
        "ts": f"1800000000.{n}",
        "team": TEAM_ID,
    }
    body = {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0RIC",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{n}",
        "event_time": 1_800_000_000,
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }
    if draw(st.integers(0, 4)) == 0:
        return draw(JSON_VALUE)
    return body


@QUICK
@given(body=slack_events())
def test_slack_events_get_a_defined_answer(channels: Channels, body: Any) -> None:
    raw = encoded(body)
    status, text = post(f"{channels.url}/webhooks/slack/events", raw, slack_signed(raw))
    assert status < 500, text[:500]


def test_unsigned_calls_are_refused_and_nothing_unsafe_was_handed_on(channels: Channels) -> None:
    update = {"update_id": next(_ids), "message": {"text": "hi"}}
    assert post(f"{channels.url}/webhooks/telegram/webhook", encoded(update), {})[0] == 401
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
    assert post(f"{channels.url}/webhooks/telegram/webhook", encoded(update), wrong)[0] == 403
    raw = encoded({"type": "event_callback"})
    forged = {**slack_signed(raw), "X-Slack-Signature": "v0=" + "0" * 64}
    assert post(f"{channels.url}/webhooks/slack/events", raw, forged)[0] == 401

    time.sleep(1.0)  # Slack turns run after the acknowledgement
    handed_on = channels.messages()
    assert {m["channel"] for m in handed_on} == {"telegram", "slack"}
    unsafe = [m for m in handed_on if UNSAFE.search(m["text"] or "")]
    assert unsafe == []
    assert "Traceback" not in channels.log.read_text()
    assert not re.search(r"\\b5\\d\\d\\b.*webhook", channels.log.read_text())
