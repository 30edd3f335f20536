"""Live updates for the console: one store poller per process, fanned out to subscribers.

Every ``POLL_SECONDS`` the poller reads the messages it has not published yet, in
conversations that have an open handoff (or just had one resolved); every
``QUEUE_POLL_SECONDS`` it also reads the queue and which readers are typing. A changed
queue becomes a ``queue`` event; each message a ``message`` event; a change in who is
typing a ``typing`` event (``{"conversation_ids": [...]}``, every conversation whose
reader is typing now; a signal expires on its own, :mod:`crm_store.typing_signals`).
Subscribers get their own bounded asyncio queue; a subscriber too slow to keep up
loses its oldest events rather than holding the others back.

Messages are found by row id. On PostgreSQL a row with a lower id can become visible
after one with a higher id (concurrent transactions commit in any order), so each
poll re-reads the ids of the last ``ID_OVERLAP`` rows behind the newest one seen and
publishes those it has not published yet. Only ids are re-read; full rows are loaded
for new ids alone, which keeps a poll every 100 ms cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Handoff, Message
from crm_store.typing_signals import readers_typing
from handoff_console.services.common import OPEN_STATUSES
from handoff_console.services.conversation_views import message_view, staff_names
from handoff_console.services.queue import list_queue, queue_signature

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
QUEUE_POLL_SECONDS = 0.5
ID_OVERLAP = 200
SUBSCRIBER_BUFFER = 500


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event, JSON data on a single line."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class EventHub:
    """Polls the store and fans events out to every subscriber of this process."""

    def __init__(self, sessions: sessionmaker[Session], poll_seconds: float = POLL_SECONDS) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_message_id: int | None = None
        self._published: deque[int] = deque(maxlen=4 * ID_OVERLAP)
        self._queue_read_at = 0.0
        self._signature: list[tuple[Any, ...]] | None = None
        self.queue_items: list[dict[str, Any]] = []
        self.typing: list[int] = []

    def subscribe(self) -> asyncio.Queue[str]:
        """A new subscriber's event queue; starts the poller if needed."""
        queue: asyncio.Queue[str] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def current_queue(self) -> str | None:
        """The latest queue as an event, once the poller has read it."""
        if self._signature is None:
            return None
        return sse("queue", {"items": self.queue_items})

    def current_typing(self) -> str:
        """Who is typing now, as an event (an empty list before the first read)."""
        return sse("typing", {"conversation_ids": self.typing})

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        """Forget a subscriber."""
        self._subscribers.discard(queue)

    async def stop(self) -> None:
        """Stop the poller."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _publish(self, frame: str) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(frame)

    async def _run(self) -> None:
        while self._subscribers:
            try:
                frames = await asyncio.to_thread(self._poll)
            except SQLAlchemyError:
                logger.exception("live-update poll failed; retrying")
                frames = []
            for frame in frames:
                self._publish(frame)
            await asyncio.sleep(self.poll_seconds)
        self._task = None

    def _poll(self) -> list[str]:
        frames: list[str] = []
        with self.sessions() as session:
            if self._last_message_id is None:
                self._last_message_id = int(
                    session.execute(select(func.coalesce(func.max(Message.id), 0))).scalar_one()
                )
                # Everything already stored counts as published: only news is pushed.
                self._published.extend(
                    session.execute(
                        select(Message.id).where(Message.id > self._last_message_id - ID_OVERLAP)
                    ).scalars()
                )
            if time.monotonic() - self._queue_read_at >= QUEUE_POLL_SECONDS:
                self._queue_read_at = time.monotonic()
                items = list_queue(session)
                signature = queue_signature(items)
                if signature != self._signature:
                    self._signature = signature
                    self.queue_items = items
                    frames.append(sse("queue", {"items": items}))
                typing = readers_typing(session, clock.now())
                if typing != self.typing:
                    self.typing = typing
                    frames.append(self.current_typing())
            frames.extend(self._new_messages(session))
        return frames

    def _new_messages(self, session: Session) -> list[str]:
        assert self._last_message_id is not None
        recent = session.execute(
            select(Message.id).where(Message.id > self._last_message_id - ID_OVERLAP)
        ).scalars()
        published = set(self._published)
        fresh = sorted(i for i in recent if i not in published)
        if not fresh:
            return []
        self._published.extend(fresh)
        self._last_message_id = max(self._last_message_id, fresh[-1])
        messages = list(
            session.execute(
                select(Message).where(Message.id.in_(fresh)).order_by(Message.id)
            ).scalars()
        )
        watched = select(Handoff.conversation_id).where(Handoff.status.in_(OPEN_STATUSES))
        open_ids = set(session.execute(watched).scalars())
        names = staff_names(session)
        return [
            sse(
                "message",
                {
                    "conversation_id": message.conversation_id,
                    "message": message_view(message, names),
                },
            )
            for message in messages
            if message.conversation_id in open_ids
        ]
