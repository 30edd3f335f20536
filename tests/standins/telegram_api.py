"""A stand-in for the Telegram Bot API: a small HTTP server on loopback.

It answers the methods the bot calls (``getMe``, ``sendMessage``,
``answerCallbackQuery``, ``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``,
``editMessageReplyMarkup``; ``sendChatAction`` from the console's typing) with valid
Bot API responses, and records every request so that tests can check exactly what the
bot sent. python-telegram-bot posts form-encoded parameters whose structured values
(``reply_markup``) are JSON strings; :attr:`BotApiCall.params` keeps them as sent and
:meth:`BotApiCall.json` decodes one.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.standins.recording import CallLog, LoopbackServer

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Library assistant",
    "username": "ric_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class BotApiCall:
    """One request the bot made."""

    method: str
    token: str
    params: dict[str, str]

    def json(self, name: str) -> Any:
        """A parameter that python-telegram-bot encoded as JSON, decoded."""
        return json.loads(self.params[name])


@dataclass
class TelegramApiStandIn:
    """The running stand-in: its URL, its token and what it was asked."""

    token: str
    webhook: dict[str, str] = field(default_factory=dict)
    blocked_chats: set[str] = field(default_factory=set)
    """Chats whose messages get Telegram's 403 "bot was blocked by the user"."""
    _server: LoopbackServer | None = None
    log: CallLog[BotApiCall] = field(default_factory=lambda: CallLog("chat_id"))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    @property
    def calls(self) -> list[BotApiCall]:
        """Every call so far, in arrival order."""
        return self.log.calls

    @property
    def base_url(self) -> str:
        """The value for ``TELEGRAM_API_BASE_URL``."""
        assert self._server is not None
        return self._server.url

    def start(self) -> TelegramApiStandIn:
        """Listen on a free loopback port in a background thread."""
        self._server = LoopbackServer(_handler_for(self))
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.stop()

    def record(self, call: BotApiCall) -> None:
        """Remember a call and wake up anyone waiting for one."""
        self.log.record(call)

    def made(self, method: str, chat_id: str | None = None) -> list[BotApiCall]:
        """Calls of ``method`` so far (to ``chat_id`` only, if given)."""
        return self.log.made(method, chat_id)

    def wait_for(
        self,
        method: str,
        chat_id: str | None = None,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[BotApiCall], bool] | None = None,
    ) -> list[BotApiCall]:
        """Wait until ``count`` matching calls were made; return them all."""
        return self.log.wait_for(method, chat_id, count, timeout, where)

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The Bot API's answer to one method call."""
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method in {"sendMessage", "editMessageReplyMarkup", "sendChatAction"}:
            chat = params.get("chat_id", "0")
            if chat in self.blocked_chats:
                return 403, {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            if method == "sendChatAction":
                return 200, {"ok": True, "result": True}
            message: dict[str, Any] = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else 0, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = json.loads(params["reply_markup"])
            return 200, {"ok": True, "result": message}
        if method == "answerCallbackQuery":
            return 200, {"ok": True, "result": True}
        if method == "setWebhook":
            self.webhook = dict(params)
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if method == "deleteWebhook":
            self.webhook = {}
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            info = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            return 200, {"ok": True, "result": info}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


def _handler_for(standin: TelegramApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _params(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            kind = self.headers.get("Content-Type", "")
            if kind.startswith("application/json") and raw:
                return {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in json.loads(raw).items()
                }
            return dict(parse_qsl(raw, keep_blank_values=True))

        def _handle(self) -> None:
            # The path is /bot<token>/<method>.
            prefix, _, method = self.path.strip("/").partition("/")
            params = self._params()
            token = prefix.removeprefix("bot")
            if not prefix.startswith("bot") or token != standin.token:
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            standin.record(BotApiCall(method, token, params))
            self._reply(*standin.answer(method, params))

        do_GET = _handle
        do_POST = _handle

    return Handler
