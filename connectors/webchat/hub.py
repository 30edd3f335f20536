"""The open sockets of each conversation, and the output channel that writes to them.

Replies, librarian messages and proactive messages all reach every open tab of a
conversation through :class:`WebchatOutput`; a tab whose connection has stalled is
closed (it reconnects and asks for what it missed) rather than holding up the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from connectors.shared import WholeMessageOutput
from connectors.webchat.protocol import bot_frame
from connectors.webchat.settings import CHANNEL, DEFAULT_SEND_TIMEOUT_SECONDS

__all__ = ["ConnectionHub", "WebchatOutput"]

logger = logging.getLogger(__name__)


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

    def session_ids(self) -> list[str]:
        """The conversations with at least one open socket."""
        return list(self._sockets)

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


class WebchatOutput(WholeMessageOutput):
    """Delivers bot and librarian messages to the widget's open sockets."""

    channel_name = CHANNEL

    def __init__(self, hub: ConnectionHub) -> None:
        self.hub = hub

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message, with its buttons, to every tab of the conversation."""
        await self.hub.send(recipient_id, bot_frame(message))
