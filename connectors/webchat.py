"""Web widget channel: a WebSocket per browser tab, served inside the Rasa server.

Mounted by Rasa at ``/webhooks/webchat/``:

- ``GET  /``           health
- ``GET  /widget.js``  the embeddable script (one ``<script>`` tag)
- ``WS   /ws``         the live conversation (see :mod:`connectors.webchat_protocol`)

Replies, librarian messages and proactive messages all reach every open tab of a
conversation through :class:`WebchatOutput`. A tab that was offline asks for what
it missed (``since`` its newest timestamp) and the channel replays it from the
tracker store, so nothing depends on the socket having been open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.text_safety import (
    MAX_MESSAGE_CHARS,
    neutralize_intent_shortcut,
    offered_payloads,
)
from connectors.webchat_protocol import (
    ClientFrame,
    FrameError,
    bot_frame,
    error_frame,
    history_frames,
    new_session_id,
    parse_client_frame,
)
from launcher.sanic_compat import patch_sanic_websockets

logger = logging.getLogger(__name__)

patch_sanic_websockets()

STATIC_DIR = Path(__file__).resolve().parent / "static"
RECENT_BOT_MESSAGES = 5


class ConnectionHub:
    """Tracks the open sockets of each conversation and remembers recent message ids."""

    def __init__(self, remembered_ids: int = 20_000) -> None:
        self._sockets: dict[str, set[Any]] = {}
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remembered = remembered_ids

    def add(self, session_id: str, socket: Any) -> None:
        """Register an open socket for a conversation."""
        self._sockets.setdefault(session_id, set()).add(socket)

    def remove(self, session_id: str, socket: Any) -> None:
        """Forget a closed socket."""
        sockets = self._sockets.get(session_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[session_id]

    def connected(self, session_id: str) -> int:
        """How many sockets are open for a conversation."""
        return len(self._sockets.get(session_id, ()))

    async def send(self, session_id: str, frame: dict[str, Any], skip: Any = None) -> int:
        """Send a frame to every open socket of a conversation; returns how many got it."""
        data = json.dumps(frame)
        delivered = 0
        for socket in list(self._sockets.get(session_id, ())):
            if socket is skip:
                continue
            try:
                await socket.send(data)
                delivered += 1
            except Exception:
                logger.info("dropping a closed socket of conversation %s", session_id)
                self.remove(session_id, socket)
        return delivered

    def forget(self, session_id: str, message_id: str) -> None:
        """Forget a message id so that a retry of a failed message is processed."""
        self._seen.pop((session_id, message_id), None)

    def first_sighting(self, session_id: str, message_id: str) -> bool:
        """Return True the first time a (conversation, client message id) pair is seen."""
        key = (session_id, message_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self._remembered:
            self._seen.popitem(last=False)
        return True


class WebchatOutput(OutputChannel):
    """Delivers bot and librarian messages to the widget's open sockets."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, as used in ``output_channel=webchat``."""
        return "webchat"

    def __init__(self, hub: ConnectionHub) -> None:
        self.hub = hub

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message, with its buttons, to every tab of the conversation."""
        await self.hub.send(recipient_id, bot_frame(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text (used when Rasa calls the channel directly)."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


class WebchatInput(InputChannel):
    """The web widget's input channel."""

    @classmethod
    def name(cls) -> str:
        """URL prefix: ``/webhooks/webchat/``."""
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebchatInput:
        """Build the channel from its ``credentials.yml`` entry."""
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS),
            allowed_origins=os.environ.get("RIC_WEBCHAT_ALLOWED_ORIGINS")
            or credentials.get("allowed_origins")
            or "*",
        )

    def __init__(
        self, max_message_chars: int = MAX_MESSAGE_CHARS, allowed_origins: str = "*"
    ) -> None:
        self.max_message_chars = max_message_chars
        self.allowed_origins = {o.strip() for o in allowed_origins.split(",") if o.strip()}
        self.hub = ConnectionHub()

    def get_output_channel(self) -> OutputChannel:
        """Channel used for proactive messages (console replies, worker surveys)."""
        return WebchatOutput(self.hub)

    def origin_allowed(self, origin: str | None) -> bool:
        """Whether a browser page from ``origin`` may open a socket."""
        return "*" in self.allowed_origins or (origin or "") in self.allowed_origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The Sanic blueprint with the health route, the script and the socket."""
        bp = Blueprint("webchat_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": "webchat"})

        @bp.route("/widget.js", methods=["GET"])
        async def widget(_: Request) -> HTTPResponse:
            return await response.file(
                str(STATIC_DIR / "widget.js"),
                headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
                mime_type="application/javascript",
            )

        @bp.websocket("/ws")
        async def socket(request: Request, ws: Any) -> None:
            if not self.origin_allowed(request.headers.get("origin")):
                await ws.close(code=1008, reason="origin not allowed")
                return
            session = _Session(self, request, ws, on_new_message)
            await session.run()

        return bp


class _Session:
    """One open socket: the handshake, then frames until the socket closes."""

    def __init__(
        self,
        channel: WebchatInput,
        request: Request,
        ws: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        self.channel = channel
        self.hub = channel.hub
        self.request = request
        self.ws = ws
        self.on_new_message = on_new_message
        self.session_id = ""

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        try:
            hello = await self._handshake()
            if hello is None:
                return
            self.hub.add(self.session_id, self.ws)
            await self.send(
                {
                    "type": "welcome",
                    "session_id": self.session_id,
                    "max_chars": self.channel.max_message_chars,
                }
            )
            await self._send_history(hello.since)
            while (data := await self.ws.recv()) is not None:
                await self._handle(data)
        except asyncio.CancelledError:
            raise
        finally:
            if self.session_id:
                self.hub.remove(self.session_id, self.ws)

    async def _handshake(self) -> ClientFrame | None:
        while True:
            data = await self.ws.recv()
            if data is None:
                return None
            try:
                frame = parse_client_frame(data, self.channel.max_message_chars)
            except FrameError as error:
                await self.send(error_frame(error))
                continue
            if frame is None or frame.type != "hello":
                await self.send(
                    {"type": "error", "code": "hello_first", "message": "send a hello frame first"}
                )
                continue
            self.session_id = frame.session_id or new_session_id()
            return frame

    async def _events(self) -> list[dict[str, Any]]:
        agent = self.request.app.ctx.agent
        tracker = await agent.tracker_store.retrieve_full_tracker(self.session_id)
        if tracker is None:
            return []
        return [event.as_dict() for event in tracker.events]

    async def _send_history(self, since: float) -> None:
        await self.send(
            {"type": "history", "messages": history_frames(await self._events(), since)}
        )

    async def _handle(self, data: str | bytes) -> None:
        try:
            frame = parse_client_frame(data, self.channel.max_message_chars)
        except FrameError as error:
            logger.info("rejected a webchat frame: %s", error.code)
            await self.send(error_frame(error))
            return
        if frame is None:
            return
        if frame.type == "ping":
            await self.send({"type": "pong"})
        elif frame.type == "sync":
            await self._send_history(frame.since)
        elif frame.type == "hello":
            await self.send(error_frame(FrameError("malformed", "already said hello")))
        elif frame.type in {"message", "button"}:
            await self._handle_message(frame)

    async def _already_processed(self, frame: ClientFrame) -> bool:
        assert frame.id is not None
        if not self.hub.first_sighting(self.session_id, frame.id):
            return True
        if frame.resend:
            # The tab may have sent it before a restart of this server: ask the tracker.
            return any(
                e.get("event") == "user" and e.get("message_id") == frame.id
                for e in await self._events()
            )
        return False

    async def _text_for(self, frame: ClientFrame) -> tuple[str, dict[str, Any]]:
        if frame.type == "button" and frame.payload is not None:
            events = await self._events()
            recent = [e.get("data") or {} for e in events if e.get("event") == "bot"][
                -RECENT_BOT_MESSAGES:
            ]
            if frame.payload in offered_payloads(recent):
                return frame.payload, {"display_text": frame.text, "button": True}
            # A payload the bot never offered is just text the reader chose to send.
        return neutralize_intent_shortcut(frame.text), {}

    async def _handle_message(self, frame: ClientFrame) -> None:
        assert frame.id is not None
        if await self._already_processed(frame):
            await self.send({"type": "ack", "id": frame.id, "duplicate": True})
            return
        text, metadata = await self._text_for(frame)
        echo = {"type": "reader", "id": frame.id, "text": frame.text, "sender": "reader"}
        await self.hub.send(self.session_id, echo, skip=self.ws)
        await self.hub.send(self.session_id, {"type": "typing", "on": True})
        try:
            await self.on_new_message(
                UserMessage(
                    text,
                    WebchatOutput(self.hub),
                    self.session_id,
                    input_channel=WebchatInput.name(),
                    message_id=frame.id,
                    metadata=metadata or None,
                )
            )
            # Acknowledged only once Rasa has saved the turn: if the server dies mid-turn the
            # widget still holds the message in its outbox and re-sends it after reconnecting.
            await self.send({"type": "ack", "id": frame.id, "duplicate": False})
        except Exception:
            logger.exception("could not process a webchat message")
            self.hub.forget(self.session_id, frame.id)
            await self.send(
                {
                    "type": "error",
                    "code": "server_error",
                    "id": frame.id,
                    "message": "Sorry, something went wrong on our side. Please try again.",
                }
            )
        finally:
            await self.hub.send(self.session_id, {"type": "typing", "on": False})
