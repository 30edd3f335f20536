"""A stand-in for the parts of Rasa's HTTP API the worker calls, on loopback.

It records every ``trigger_intent`` and ``tracker/events`` call (thread-safe) so that
tests can count what the worker asked Rasa to send. ``fail_next`` makes the next calls
answer HTTP 500, as an overloaded Rasa would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from tests.standins.recording import LoopbackServer


@dataclass
class RasaCall:
    """One call the stand-in received."""

    sender_id: str
    kind: str
    params: dict[str, str]
    body: Any


@dataclass
class RasaStandIn:
    """The running stand-in: its URL and what it received."""

    url: str
    calls: list[RasaCall] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def triggers(self, intent: str | None = None) -> list[RasaCall]:
        """The ``trigger_intent`` calls, optionally only for ``intent``."""
        with self.lock:
            return [
                c
                for c in self.calls
                if c.kind == "trigger_intent" and (intent is None or c.body.get("name") == intent)
            ]


def start_rasa_standin() -> tuple[LoopbackServer, RasaStandIn]:
    """Start the stand-in on a free loopback port."""
    state = RasaStandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            parts = parsed.path.strip("/").split("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            if len(parts) < 3 or parts[0] != "conversations":
                self.send_response(404)
                self.end_headers()
                return
            kind = "/".join(parts[2:])
            with state.lock:
                if state.fail_next > 0:
                    state.fail_next -= 1
                    status = 500
                else:
                    state.calls.append(RasaCall(unquote(parts[1]), kind, params, body))
                    status = 200
            payload = b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = LoopbackServer(Handler)
    state.url = server.url
    return server, state


@pytest.fixture
def rasa_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[RasaStandIn]:
    """A running stand-in with ``RIC_RASA_URL`` pointing at it."""
    server, state = start_rasa_standin()
    monkeypatch.setenv("RIC_RASA_URL", state.url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", "test-token")
    yield state
    server.stop()
