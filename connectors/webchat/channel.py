"""Web widget channel: a WebSocket per browser tab, served inside the Rasa server.

Mounted by Rasa at ``/webhooks/webchat/``:

- ``GET  /``           health
- ``GET  /widget.js``  the embeddable script (one ``<script>`` tag)
- ``WS   /ws``         the live conversation (see :mod:`connectors.webchat_protocol`)

Replies, librarian messages and proactive messages all reach every open tab of a
conversation through :class:`WebchatOutput`. A tab that was offline asks for what
it missed (``since`` its newest timestamp) and the channel replays it from the
tracker store, so nothing depends on the socket having been open.

**One conversation, one line.** A socket only reads and validates frames; the reader's
messages go into the conversation's :class:`SessionLine`, a bounded queue served by one
task, so a conversation's messages reach Rasa one at a time and in order, whichever
tab sent them. The socket therefore keeps reading while Rasa works: Sanic's
WebSocket answers the keepalive ping only when the handler reads (a handler that
awaited each turn inline left pongs unread behind queued frames, and the server
closed every socket with 1011 after 20 + 20 s), and Rasa never sees two messages of
one conversation at once (its ticket lock polls once a second, which is what slowed
8 concurrent tabs to about one message a second). Messages are served in the order
they arrived, and each socket may hold at most its share of the line (``queue_size``
divided by the open sockets, at least one), so one busy tab cannot crowd out another.
A message that does not fit is refused with a ``busy`` error frame that carries the
message's id: it is never dropped silently.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.webchat_protocol import (
    ClientFrame,
    FrameError,
    bot_frame,
    error_frame,
    history_frames,
    new_session_id,
    parse_client_frame,
)
from messaging.text_safety import (
    MAX_MESSAGE_CHARS,
    neutralize_intent_shortcut,
    offered_payloads,
)
from rasa_plugins.sanic_compat import patch_sanic_websockets

logger = logging.getLogger(__name__)

patch_sanic_websockets()

STATIC_DIR = Path(__file__).resolve().parent / "static"
RECENT_BOT_MESSAGES = 5
DEFAULT_QUEUE_SIZE = 8
DEFAULT_SEND_TIMEOUT_SECONDS = 10.0

BUSY_TEXT = (
    "I'm still answering your earlier messages. Please wait for my reply, "
    "then send this one again."
)
SERVER_ERROR_TEXT = "Sorry, something went wrong on our side. Please try again."


@dataclass(frozen=True)
class WebchatSettings:
    """The widget channel's settings, read once from the environment.

    Attributes:
        allowed_origins: comma-separated page origins allowed to open sockets, or ``*``.
        queue_size: how many of a conversation's messages may wait for the bot at once
            (all tabs together); one more gets a ``busy`` error frame.
        send_timeout_seconds: how long a tab may take to accept a frame before the
            channel closes its socket (it reconnects and replays what it missed), so
            that one stalled tab cannot hold up the others.
    """

    allowed_origins: str = "*"
    queue_size: int = DEFAULT_QUEUE_SIZE
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError(f"RIC_WEBCHAT_QUEUE_SIZE must be at least 1, not {self.queue_size}")
        if not self.send_timeout_seconds > 0:
            raise ValueError(
                "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS must be a positive number of seconds, "
                f"not {self.send_timeout_seconds}"
            )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, credentials: Mapping[str, Any] | None = None
    ) -> WebchatSettings:
        """Read ``RIC_WEBCHAT_*`` variables; ``credentials.yml`` values are the fallback.

        Raises:
            ValueError: a variable is set to something that is not a valid value.
        """
        env = os.environ if env is None else env
        credentials = credentials or {}

        def number(name: str, key: str, default: float, kind: type[int] | type[float]) -> Any:
            raw = (env.get(name) or "").strip() or credentials.get(key)
            if raw in (None, ""):
                return default
            try:
                return kind(raw)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, not {raw!r}") from None

        return cls(
            allowed_origins=(env.get("RIC_WEBCHAT_ALLOWED_ORIGINS") or "").strip()
            or str(credentials.get("allowed_origins") or "*"),
            queue_size=number("RIC_WEBCHAT_QUEUE_SIZE", "queue_size", DEFAULT_QUEUE_SIZE, int),
            send_timeout_seconds=number(
                "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS",
                "send_timeout_seconds",
                DEFAULT_SEND_TIMEOUT_SECONDS,
                float,
            ),
        )


class ConnectionHub:
    """Tracks the open sockets of each conversation and remembers recent message ids."""

    def __init__(
        self,
        remembered_ids: int = 20_000,
        send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS,
    ) -> None:
        self._sockets: dict[str, set[Any]] = {}
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remembered = remembered_ids
        self._send_timeout = send_timeout_seconds
        self._closing: set[asyncio.Task[None]] = set()

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
        """Send a frame to every open socket of a conversation; returns how many got it.

        The sockets are written to side by side, each with a time limit: a tab whose
        connection has stalled is closed (it reconnects and asks for what it missed)
        instead of holding up the conversation's other tabs.
        """
        data = json.dumps(frame)
        sockets = [s for s in self._sockets.get(session_id, ()) if s is not skip]
        results = await asyncio.gather(
            *(asyncio.wait_for(socket.send(data), self._send_timeout) for socket in sockets),
            return_exceptions=True,
        )
        delivered = 0
        for socket, result in zip(sockets, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, asyncio.TimeoutError):
                logger.warning("closing a stalled socket of conversation %s", session_id)
                self.remove(session_id, socket)
                self._close_later(socket)
            elif isinstance(result, BaseException):
                logger.info("dropping a closed socket of conversation %s", session_id)
                self.remove(session_id, socket)
            else:
                delivered += 1
        return delivered

    def _close_later(self, socket: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(socket.close(1013, "too slow to receive"), 5)
            except Exception as error:  # the connection is being dropped either way
                logger.info("a stalled socket did not close cleanly: %s", error)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

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


@dataclass(eq=False)
class QueuedMessage:
    """A reader's message waiting in its conversation's line.

    Attributes:
        frame: the validated message or button frame.
        reply_to: the socket that gets the message's ``ack`` (or error); a re-send of a
            waiting message from a reconnected tab moves it there.
        handler: what processing the message means (bound to the socket that took it in).
        sender: the socket the message came in on; its place counts against that socket's
            share of the line (``reply_to`` by default).
    """

    frame: ClientFrame
    reply_to: Any
    handler: Callable[[QueuedMessage], Awaitable[None]] = field(repr=False)
    sender: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.sender is None:
            self.sender = self.reply_to


class SessionLine:
    """One conversation's waiting messages, in arrival order, served by one task.

    Each socket may hold at most its share of the places, so a tab sending as fast as
    it can leaves room for the conversation's other tabs.
    """

    def __init__(self, session_id: str, capacity: int) -> None:
        self.session_id = session_id
        self.capacity = capacity
        self.queue: deque[QueuedMessage] = deque()
        self.held: Counter[Any] = Counter()
        """How many queued messages each socket sent."""
        self.waiting: dict[str, QueuedMessage] = {}
        """Messages taken in and not yet finished (queued or being processed), by id."""
        self.task: asyncio.Task[None] | None = None

    def queued(self) -> int:
        """How many messages wait (the one being processed does not count)."""
        return len(self.queue)

    def offer(self, message: QueuedMessage, sockets_open: int) -> bool:
        """Take a message in, or return False when the line or its sender's share is full."""
        share = max(1, math.ceil(self.capacity / max(1, sockets_open)))
        if len(self.queue) >= self.capacity or self.held[message.sender] >= share:
            return False
        self.queue.append(message)
        self.held[message.sender] += 1
        assert message.frame.id is not None
        self.waiting[message.frame.id] = message
        return True

    def next(self) -> QueuedMessage | None:
        """The oldest waiting message; None when the line is empty."""
        if not self.queue:
            return None
        message = self.queue.popleft()
        self.held[message.sender] -= 1
        if self.held[message.sender] <= 0:
            del self.held[message.sender]
        return message


class SessionLines:
    """The lines of all conversations; a line and its task exist only while it has work."""

    def __init__(self, capacity: int = DEFAULT_QUEUE_SIZE) -> None:
        self.capacity = capacity
        self._lines: dict[str, SessionLine] = {}

    def waiting(self, session_id: str, message_id: str) -> QueuedMessage | None:
        """The message with this id if it is still waiting or being processed."""
        line = self._lines.get(session_id)
        return line.waiting.get(message_id) if line is not None else None

    def has_work(self, session_id: str) -> bool:
        """Whether the conversation has messages waiting or being processed."""
        return session_id in self._lines

    def offer(self, session_id: str, message: QueuedMessage, sockets_open: int) -> bool:
        """Queue a message for its conversation; False means refused (the line is full)."""
        line = self._lines.get(session_id)
        if line is None:
            line = self._lines[session_id] = SessionLine(session_id, self.capacity)
        if not line.offer(message, sockets_open):
            return False
        if line.task is None:
            line.task = asyncio.get_running_loop().create_task(self._serve(line))
        return True

    async def _serve(self, line: SessionLine) -> None:
        try:
            while (message := line.next()) is not None:
                try:
                    await message.handler(message)
                except Exception:
                    logger.exception("a webchat message failed outside its handler")
                finally:
                    assert message.frame.id is not None
                    line.waiting.pop(message.frame.id, None)
        finally:
            # No await between the empty check above and this: no message can slip in.
            line.task = None
            if not line.waiting and self._lines.get(line.session_id) is line:
                del self._lines[line.session_id]


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
        """Build the channel from its ``credentials.yml`` entry and the environment."""
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS),
            settings=WebchatSettings.from_env(credentials=credentials),
        )

    def __init__(
        self,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        allowed_origins: str | None = None,
        settings: WebchatSettings | None = None,
    ) -> None:
        settings = settings if settings is not None else WebchatSettings.from_env()
        if allowed_origins is not None:
            settings = WebchatSettings(
                allowed_origins, settings.queue_size, settings.send_timeout_seconds
            )
        self.settings = settings
        self.max_message_chars = max_message_chars
        self.allowed_origins = {
            o.strip() for o in settings.allowed_origins.split(",") if o.strip()
        }
        self.hub = ConnectionHub(send_timeout_seconds=settings.send_timeout_seconds)
        self.lines = SessionLines(settings.queue_size)

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
        self.lines = channel.lines
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
                    "queue_size": self.lines.capacity,
                }
            )
            await self._send_history(hello.since)
            while (data := await self.ws.recv()) is not None:
                try:
                    await self._handle(data)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # One frame we failed on must not take the reader's socket down.
                    logger.exception("could not handle a webchat frame")
                    await self.send(
                        {"type": "error", "code": "server_error", "message": SERVER_ERROR_TEXT}
                    )
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
            await self._take_in(frame)

    async def _take_in(self, frame: ClientFrame) -> None:
        """Queue a message for the conversation's line, or say why not; never waits for Rasa."""
        assert frame.id is not None
        waiting = self.lines.waiting(self.session_id, frame.id)
        if waiting is not None:
            # A reconnected tab re-sends what it had not seen acknowledged: the ack goes here.
            waiting.reply_to = self.ws
            return
        if not self.hub.first_sighting(self.session_id, frame.id):
            await self.send({"type": "ack", "id": frame.id, "duplicate": True})
            return
        message = QueuedMessage(frame, self.ws, self._process)
        if not self.lines.offer(self.session_id, message, self.hub.connected(self.session_id)):
            logger.info("conversation %s is busy; refused a message", self.session_id)
            self.hub.forget(self.session_id, frame.id)
            await self.send({"type": "error", "code": "busy", "id": frame.id, "message": BUSY_TEXT})
            return
        echo = {"type": "reader", "id": frame.id, "text": frame.text, "sender": "reader"}
        await self.hub.send(self.session_id, echo, skip=self.ws)

    async def _tracker_has(self, message_id: str) -> bool:
        return any(
            e.get("event") == "user" and e.get("message_id") == message_id
            for e in await self._events()
        )

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

    async def _reply(self, message: QueuedMessage, frame: dict[str, Any]) -> None:
        """Send ``frame`` to the socket responsible for ``message``, if it is still open."""
        try:
            await message.reply_to.send(json.dumps(frame))
        except Exception as error:
            # The tab went away: it still holds the message and re-sends it on reconnect.
            logger.info("could not answer a closed webchat socket: %s", error)

    async def _process(self, message: QueuedMessage) -> None:
        """Hand one message to Rasa; runs in the conversation's line, one at a time."""
        frame = message.frame
        assert frame.id is not None
        # The tab may have sent it before a restart of this server: ask the tracker.
        if frame.resend and await self._tracker_has(frame.id):
            await self._reply(message, {"type": "ack", "id": frame.id, "duplicate": True})
            return
        await self.hub.send(self.session_id, {"type": "typing", "on": True})
        try:
            text, metadata = await self._text_for(frame)
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
        except Exception:
            logger.exception("could not process a webchat message")
            self.hub.forget(self.session_id, frame.id)
            await self._reply(
                message,
                {
                    "type": "error",
                    "code": "server_error",
                    "id": frame.id,
                    "message": SERVER_ERROR_TEXT,
                },
            )
        else:
            # Acknowledged only once Rasa has saved the turn: if the server dies mid-turn the
            # widget still holds the message in its outbox and re-sends it after reconnecting.
            await self._reply(message, {"type": "ack", "id": frame.id, "duplicate": False})
        finally:
            await self.hub.send(self.session_id, {"type": "typing", "on": False})
