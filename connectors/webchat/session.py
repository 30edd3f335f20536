"""One open widget socket: the handshake, then frames until the socket closes.

The socket keeps reading while Rasa works (Sanic's WebSocket answers the keepalive
ping only when the handler reads): each message is queued in its conversation's line
(:mod:`connectors.webchat.lines`) and acknowledged once Rasa has saved the turn. A
message that does not fit is refused with a ``busy`` error frame carrying its id, and
one over the reader's rate limits with ``slow_down`` (:mod:`connectors.webchat.admission`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic.request import Request

from connectors.shared import OnNewMessage, holds_user_message, recent_offers, tracker_events
from connectors.webchat import protocol
from connectors.webchat.admission import (
    SESSION_FULL_REASON,
    TOO_MANY_SOCKETS_CODE,
    ReaderLimits,
    SocketCaps,
)
from connectors.webchat.handoff import HandoffWatcher, opening
from connectors.webchat.hub import ConnectionHub, WebchatOutput
from connectors.webchat.lines import QueuedMessage, SessionLines
from connectors.webchat.settings import CHANNEL
from library.profile import load_profile
from messaging.logs import set_conversation
from messaging.text_safety import neutralize_intent_shortcut

__all__ = ["BUSY_TEXT", "SERVER_ERROR_TEXT", "SocketSession"]

logger = logging.getLogger(__name__)

BUSY_TEXT = (
    "I'm still answering your earlier messages. Please wait for my reply, then send this one again."
)
SERVER_ERROR_TEXT = "Sorry, something went wrong on our side. Please try again."


@dataclass(eq=False)
class SocketSession:
    """One open socket: the handshake, then frames until the socket closes.

    Attributes:
        hub: the open sockets of every conversation.
        lines: every conversation's line of messages waiting for Rasa.
        max_message_chars: the longest message text accepted.
        request: the socket's upgrade request (its app holds the Rasa agent).
        ws: the socket.
        on_new_message: hands one message to Rasa.
        session_id: the conversation, known once the tab said hello.
        handoffs: reads the conversation's handoff for the ``handoff`` frame (none in
            tests that do not need the reader store).
        limits: the rate limits per conversation and client address; a message over
            one gets a ``slow_down`` error frame and is not processed (none: unlimited).
        caps: how many sockets a conversation may hold open; one more is closed with
            code 4429 after its hello (none: unlimited).
    """

    hub: ConnectionHub
    lines: SessionLines
    max_message_chars: int
    request: Request
    ws: Any
    on_new_message: OnNewMessage
    session_id: str = ""
    handoffs: HandoffWatcher | None = None
    limits: ReaderLimits | None = None
    caps: SocketCaps | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame to this socket."""
        await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        """Serve the socket until it closes."""
        try:
            hello = await self._handshake()
            if hello is None:
                return
            # No await between the count and hub.add: two tabs cannot both take the last place.
            if self.caps is not None and not self.caps.session_has_room(
                self.hub.connected(self.session_id)
            ):
                logger.warning("refused a widget socket: its conversation holds the most")
                await self.ws.close(code=TOO_MANY_SOCKETS_CODE, reason=SESSION_FULL_REASON)
                return
            self.hub.add(self.session_id, self.ws)
            set_conversation(self.session_id)  # on every log line of this socket
            await self.send(
                {
                    "type": "welcome",
                    "session_id": self.session_id,
                    "max_chars": self.max_message_chars,
                    "queue_size": self.lines.capacity,
                    **opening(load_profile()),
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

    async def _handshake(self) -> protocol.ClientFrame | None:
        while True:
            data = await self.ws.recv()
            if data is None:
                return None
            try:
                frame = protocol.parse_client_frame(data, self.max_message_chars)
            except protocol.FrameError as error:
                await self.send(protocol.error_frame(error))
                continue
            if frame is None or frame.type != "hello":
                await self.send(
                    {"type": "error", "code": "hello_first", "message": "send a hello frame first"}
                )
                continue
            self.session_id = frame.session_id or protocol.new_session_id()
            return frame

    async def _events(self) -> list[dict[str, Any]]:
        return await tracker_events(self.request.app.ctx.agent.tracker_store, self.session_id)

    async def _send_history(self, since: float) -> None:
        """The messages after ``since``, whether the PIN is asked, and the handoff's state."""
        events = await self._events()
        frame: dict[str, Any] = {
            "type": "history",
            "messages": protocol.history_frames(events, since),
            "secret": protocol.asks_for_secret(events),
        }
        if self.handoffs is not None and (handoff := await self.handoffs.greet(self.session_id)):
            frame["handoff"] = handoff
        await self.send(frame)

    async def _handle(self, data: str | bytes) -> None:
        try:
            frame = protocol.parse_client_frame(data, self.max_message_chars)
        except protocol.FrameError as error:
            logger.info("rejected a webchat frame: %s", error.code)
            await self.send(protocol.error_frame(error))
            return
        if frame is None:
            return
        if frame.type == "ping":
            await self.send({"type": "pong"})
        elif frame.type == "sync":
            await self._send_history(frame.since)
        elif frame.type == "hello":
            again = protocol.FrameError("malformed", "already said hello")
            await self.send(protocol.error_frame(again))
        elif frame.type in {"message", "button"}:
            await self._take_in(frame)
        elif frame.type == "typing" and self.handoffs is not None:
            await self.handoffs.reader_typing(self.session_id, frame.extra["on"] is True)

    async def _take_in(self, frame: protocol.ClientFrame) -> None:
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
        keys = self.limits.keys(self.request, self.session_id) if self.limits else {}
        # Counted first, atomically (concurrent messages never exceed a limit); refunded
        # below if the line then refuses it, so a refused message costs nothing.
        if self.limits is not None and not (admission := await self.limits.admit(keys)).allowed:
            logger.info(
                "conversation %s is over its %s rate limit", self.session_id, admission.scope
            )
            self.hub.forget(self.session_id, frame.id)
            await self.send(self.limits.refusal(frame.id, admission))
            return
        if not self.lines.offer(self.session_id, message, self.hub.connected(self.session_id)):
            logger.info("conversation %s is busy; refused a message", self.session_id)
            self.hub.forget(self.session_id, frame.id)
            if self.limits is not None:
                await self.limits.refund(keys)
            await self.send({"type": "error", "code": "busy", "id": frame.id, "message": BUSY_TEXT})
            return
        shown = protocol.masked(frame.text) if frame.secret else frame.text
        echo = {"type": "reader", "id": frame.id, "text": shown, "sender": "reader"}
        await self.hub.send(self.session_id, echo, skip=self.ws)

    async def _tracker_has(self, message_id: str) -> bool:
        return holds_user_message(await self._events(), message_id)

    async def _text_for(self, frame: protocol.ClientFrame) -> tuple[str, dict[str, Any]]:
        # The browser, for the console's "Web chat (Chrome, 3 visits)" label.
        agent = self.request.headers.get("user-agent")
        about: dict[str, Any] = {"user_agent": agent[:300]} if agent else {}
        # A payload the bot never offered is just text the reader chose to send.
        if (
            frame.type == "button"
            and frame.payload is not None
            and frame.payload in recent_offers(await self._events())
        ):
            return frame.payload, {"display_text": frame.text, "button": True, **about}
        return neutralize_intent_shortcut(frame.text), about

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
        set_conversation(self.session_id)  # Rasa's lines about this turn carry it too
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
                    input_channel=CHANNEL,
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
            # "secret": the bot now asks for the PIN, so the tab masks its input box.
            secret = protocol.asks_for_secret(await self._events())
            ack = {"type": "ack", "id": frame.id, "duplicate": False, "secret": secret}
            await self._reply(message, ack)
        finally:
            await self.hub.send(self.session_id, {"type": "typing", "on": False})
