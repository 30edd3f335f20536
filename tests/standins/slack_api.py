"""A stand-in for the Slack Web API: a small HTTP server on loopback.

It answers ``auth.test`` (Bolt asks it who the bot is), ``chat.postMessage``,
``chat.update`` and ``users.info`` (for the people a test registers in ``people``) with
valid Web API responses, checks the bearer token, and records
every request so that tests can check exactly what the app sent. slack_sdk posts
``chat.postMessage`` as JSON; form-encoded calls are recorded too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.standins.recording import CallLog, LoopbackServer

BOT_USER_ID = "U0RICBOT"
TEAM_ID = "T0LIBRARY"


@dataclass
class WebApiCall:
    """One request the app made."""

    method: str
    token: str
    params: dict[str, Any]


@dataclass
class SlackApiStandIn:
    """The running stand-in: its URL, its token and what it was asked."""

    token: str
    _server: LoopbackServer | None = None
    log: CallLog[WebApiCall] = field(default_factory=lambda: CallLog("channel"))
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    people: dict[str, str] = field(default_factory=dict)
    """Slack user id -> display name, for ``users.info``; anyone else is not found."""

    @property
    def calls(self) -> list[WebApiCall]:
        """Every call so far, in arrival order."""
        return self.log.calls

    @property
    def base_url(self) -> str:
        """The value for ``SLACK_API_BASE_URL``."""
        assert self._server is not None
        return self._server.url + "/api/"

    def start(self) -> SlackApiStandIn:
        """Listen on a free loopback port in a background thread."""
        self._server = LoopbackServer(_handler_for(self))
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.stop()

    def record(self, call: WebApiCall) -> None:
        """Remember a call and wake up anyone waiting for one."""
        self.log.record(call)

    def made(self, method: str, channel: str | None = None) -> list[WebApiCall]:
        """Calls of ``method`` so far (to ``channel`` only, if given)."""
        return self.log.made(method, channel)

    def wait_for(
        self,
        method: str,
        channel: str | None = None,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[WebApiCall], bool] | None = None,
    ) -> list[WebApiCall]:
        """Wait until ``count`` matching calls were made; return them all."""
        return self.log.wait_for(method, channel, count, timeout, where)

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The Web API's answer to one method call."""
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://library.slack.com/",
                "team": "Library",
                "user": "ric",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "B0RICBOT",
                "is_enterprise_install": False,
            }
        if method in {"chat.postMessage", "chat.update"}:
            if not params.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            ts = params.get("ts") or f"{1_800_000_000 + next(self._ts)}.000100"
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": "B0RICBOT",
                "text": params.get("text", ""),
                "ts": ts,
            }
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            if params.get("blocks"):
                message["blocks"] = params["blocks"]
            return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        if method == "users.info":
            user = str(params.get("user") or "")
            if user not in self.people:
                return {"ok": False, "error": "user_not_found"}
            name = self.people[user]
            profile = {"display_name": name, "real_name": name}
            return {"ok": True, "user": {"id": user, "name": user.lower(), "profile": profile}}
        return {"ok": False, "error": "unknown_method"}


def _handler_for(standin: SlackApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)  # the Web API reports errors in the body
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _params(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            if self.headers.get("Content-Type", "").startswith("application/json") and raw:
                return dict(json.loads(raw))
            params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
            if isinstance(params.get("blocks"), str):
                params["blocks"] = json.loads(params["blocks"])
            return params

        def do_GET(self) -> None:  # users.info and other reads send their query string
            self.do_POST()

        def do_POST(self) -> None:
            method = self.path.split("?")[0].removeprefix("/api/")
            params = self._params()
            if "?" in self.path:
                params.update(parse_qsl(self.path.split("?", 1)[1], keep_blank_values=True))
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token != standin.token:
                self._reply({"ok": False, "error": "invalid_auth"})
                return
            standin.record(WebApiCall(method, token, params))
            self._reply(standin.answer(method, params))

    return Handler
