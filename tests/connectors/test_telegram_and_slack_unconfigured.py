"""Without secrets both channels load, and their endpoints answer 503 with a clear message.

A small Sanic server mounts the two channels with Rasa's own ``register``, in a
process whose environment has no Telegram or Slack variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.system import ROOT, free_port

SERVER = """
import sys
from rasa.core.channels.channel import register
from sanic import Sanic
from connectors.slack import SlackInput
from connectors.telegram import TelegramInput

async def on_new_message(message):
    raise AssertionError("an unconfigured channel passed a message on")

app = Sanic("unconfigured_channels")
channels = [TelegramInput.from_credentials({}), SlackInput.from_credentials({})]
register(channels, app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
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
                _, err = process.communicate()
                pytest.fail(f"the channel server did not start:\n{err[-2000:]}")
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(30)


def fetch(url: str, data: bytes | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_health_says_the_channels_are_not_configured(server: str) -> None:
    assert fetch(f"{server}/webhooks/telegram/") == (
        200,
        {"status": "ok", "channel": "telegram", "configured": False},
    )
    assert fetch(f"{server}/webhooks/slack/") == (
        200,
        {"status": "ok", "channel": "slack", "configured": False},
    )


def test_the_endpoints_answer_503_with_what_is_missing(server: str) -> None:
    update = json.dumps({"update_id": 1, "message": {"text": "hi"}}).encode()
    assert fetch(f"{server}/webhooks/telegram/webhook", update) == (
        503,
        {
            "error": "not_configured",
            "message": "The Telegram channel is not configured: "
            "set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN.",
        },
    )
    assert fetch(f"{server}/webhooks/slack/events", b'{"type": "url_verification"}') == (
        503,
        {
            "error": "not_configured",
            "message": "The Slack channel is not configured: "
            "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.",
        },
    )
