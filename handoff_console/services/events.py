"""Live updates for the console: one store poller per process, fanned out to subscribers.

Every ``POLL_SECONDS`` the poller reads the queue and any messages newer than the
last one it saw, in conversations that have an open handoff (or just had one
resolved). A changed queue becomes a ``queue`` event; each message a ``message``
event. Subscribers get their own bounded asyncio queue; a subscriber too slow to
keep up loses its oldest events rather than holding the others back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Handoff, Message
from handoff_console.services._common import OPEN_STATUSES
from handoff_console.services.conversations import message_view, staff_names
from handoff_console.services.queue import list_queue, queue_signature

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.3
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
        self._signature: list[tuple[Any, ...]] | None = None
        self.queue_items: list[dict[str, Any]] = []

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
            items = list_queue(session)
            signature = queue_signature(items)
            if signature != self._signature:
                self._signature = signature
                self.queue_items = items
                frames.append(sse("queue", {"items": items}))
            watched = select(Handoff.conversation_id).where(Handoff.status.in_(OPEN_STATUSES))
            messages = list(
                session.execute(
                    select(Message)
                    .where(Message.id > self._last_message_id)
                    .order_by(Message.id)
                    .limit(1000)
                ).scalars()
            )
            if messages:
                self._last_message_id = messages[-1].id
                open_ids = set(session.execute(watched).scalars())
                names = staff_names(session)
                for message in messages:
                    if message.conversation_id in open_ids:
                        frames.append(
                            sse(
                                "message",
                                {
                                    "conversation_id": message.conversation_id,
                                    "message": message_view(message, names),
                                },
                            )
                        )
        return frames
