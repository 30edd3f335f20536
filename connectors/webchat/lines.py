"""One conversation, one line: the reader's messages reach Rasa one at a time, in order.

A socket only reads and validates frames; the reader's messages go into the
conversation's :class:`SessionLine`, a bounded queue served by one task, whichever tab
sent them. Messages are served in the order they arrived, and each socket may hold at
most its share of the line (``queue_size`` divided by the open sockets, at least one),
so one busy tab cannot crowd out another.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.webchat.protocol import ClientFrame
from connectors.webchat.settings import DEFAULT_QUEUE_SIZE

__all__ = ["QueuedMessage", "SessionLine", "SessionLines"]

logger = logging.getLogger(__name__)


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
