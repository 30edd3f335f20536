"""Live updates for the console: one store poller per process, fanned out to subscribers.

Every ``POLL_SECONDS`` the poller reads the messages it has not published yet, in
conversations that have an open handoff, and the private notes it has not published
yet, in any conversation; every ``QUEUE_POLL_SECONDS`` it also reads the queue and
which readers are typing. A changed queue becomes a ``queue`` event; each message a
``message`` event (``{"conversation_id", "message"}``); each note a ``note`` event
(``{"conversation_id", "note"}``, the note as ``GET /api/conversations/{id}`` shows
it); a change in who is typing a ``typing`` event (``{"conversation_ids": [...]}``,
every conversation whose reader is typing now; a signal expires on its own,
:mod:`crm_store.typing_signals`). Subscribers get their own bounded asyncio queue; a
subscriber too slow to keep up loses its oldest events rather than holding the others
back.

Messages and notes are found by row id in the shared store, so a note written through
another console process (another replica) is pushed by every process's poller. On
PostgreSQL a row with a lower id can become visible after one with a higher id
(concurrent transactions commit in any order), so each poll re-reads the ids of the
last ``ID_OVERLAP`` rows behind the newest one seen and publishes those it has not
published yet (:class:`NewRows`). Only ids are re-read; full rows are loaded for new ids
alone, which keeps a poll every 100 ms cheap.
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
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from crm_store import clock
from crm_store.models import Handoff, Message, Note
from crm_store.typing_signals import readers_typing
from handoff_console.services.common import OPEN_STATUSES
from handoff_console.services.conversation_views import message_view, note_view, staff_names
from handoff_console.services.queue import list_queue, queue_signature

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
QUEUE_POLL_SECONDS = 0.5
ID_OVERLAP = 200
SUBSCRIBER_BUFFER = 500


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event, JSON data on a single line."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class NewRows:
    """Which rows of one table are news: ids not published yet, found with an overlap.

    The first :meth:`fresh` takes everything already stored as published (history is not
    news). Each later call re-reads the ids of the last ``ID_OVERLAP`` rows behind the
    newest one seen, so a row that becomes visible after a higher id is still found, and
    answers those not published yet, oldest id first; each id is answered once.
    """

    def __init__(self, id_column: InstrumentedAttribute[Any]) -> None:
        self.id_column = id_column
        self.last_id: int | None = None
        self.published: deque[int] = deque(maxlen=4 * ID_OVERLAP)

    def _recent(self, session: Session) -> list[int]:
        assert self.last_id is not None
        return list(
            session.execute(
                select(self.id_column).where(self.id_column > self.last_id - ID_OVERLAP)
            ).scalars()
        )

    def fresh(self, session: Session) -> list[int]:
        """The ids stored since the last call and not answered yet, in id order."""
        if self.last_id is None:
            self.last_id = int(
                session.execute(select(func.coalesce(func.max(self.id_column), 0))).scalar_one()
            )
            self.published.extend(self._recent(session))
            return []
        published = set(self.published)
        fresh = sorted(i for i in self._recent(session) if i not in published)
        if fresh:
            self.published.extend(fresh)
            self.last_id = max(self.last_id, fresh[-1])
        return fresh


class EventHub:
    """Polls the store and fans events out to every subscriber of this process."""

    def __init__(self, sessions: sessionmaker[Session], poll_seconds: float = POLL_SECONDS) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._messages = NewRows(Message.id)
        self._notes = NewRows(Note.id)
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
            frames.extend(self._new_notes(session))
        return frames

    def _new_messages(self, session: Session) -> list[str]:
        fresh = self._messages.fresh(session)
        if not fresh:
            return []
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

    def _new_notes(self, session: Session) -> list[str]:
        # Every conversation's notes, not only those in handoff: a librarian may keep a
        # resolved or bot-only conversation open in the inbox while a colleague notes it.
        fresh = self._notes.fresh(session)
        if not fresh:
            return []
        notes = session.execute(select(Note).where(Note.id.in_(fresh)).order_by(Note.id))
        return [
            sse("note", {"conversation_id": note.conversation_id, "note": note_view(session, note)})
            for note in notes.scalars()
        ]
