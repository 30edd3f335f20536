"""The reader's side of a handoff: the ``handoff`` frame, pushed to every open tab.

The channel runs inside the Rasa server and reads the reader store itself, so the
console never has to call the widget: every ``RIC_WEBCHAT_HANDOFF_POLL_SECONDS`` the
:class:`HandoffWatcher` reads, for each conversation with an open socket, its handoff
(:func:`crm_store.handoff_status.handoff_view`: one indexed query, one more for a
librarian's name, two more while waiting) and, once per round, whether librarians are
available. A tab gets a frame when what it shows would change, and the current one
inside its ``history`` frame on (re)connecting::

    {"type": "handoff", "available": true, "state": "waiting" | "with_librarian" | "none",
     "position": 2, "wait": "about 4 minutes", "librarian": "Sam", "typing": "Sam",
     "lines": [{"key": "7:joined", "ts": 1733480000.0, "text": "Sam (librarian) joined"}]}

``typing`` names the librarian typing a reply (for a few seconds after each keystroke
the console reports, :mod:`crm_store.typing_signals`); the reader's own typing goes the
other way through :meth:`HandoffWatcher.reader_typing`, at most one store write every
``REFRESH_SECONDS`` per conversation.

"Available" means the library's staffed chat hours (``library.staffed_time``; always,
with ``RIC_CHAT_ALWAYS_STAFFED=1``) and at least one librarian whose presence is online.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.shared import StoreSessions
from connectors.webchat.hub import ConnectionHub
from crm_store import clock
from crm_store.handoff_status import HandoffView, handoff_view, librarians_online, wait_text
from crm_store.typing_signals import REFRESH_SECONDS, set_reader_typing
from library.profile import LibraryProfile, load_profile
from library.staffed_time import staffed_hours_from_profile
from ric_config import ActionsConfig

__all__ = ["HandoffWatcher", "handoff_frame", "opening", "staffed_at"]

logger = logging.getLogger(__name__)


def staffed_at(profile: LibraryProfile, when: datetime, always: bool = False) -> bool:
    """Whether ``when`` falls inside the library's staffed chat hours."""
    if always:
        return True
    local = when.astimezone(profile.tz)
    window = staffed_hours_from_profile(profile).window(local.date())
    return window is not None and window[0] <= local < window[1]


def opening(profile: LibraryProfile) -> dict[str, Any]:
    """The greeting and suggested topics a tab shows when its conversation is empty."""
    return {
        "greeting": f"Hi! I'm the {profile.library.short_name} assistant. Ask me anything "
        "about the library, or pick a topic below.",
        "topics": list(profile.suggested_topics),
    }


def handoff_frame(view: HandoffView, available: bool) -> dict[str, Any]:
    """The ``handoff`` frame for one conversation's view (a pure function)."""
    frame: dict[str, Any] = {
        "type": "handoff",
        "available": available,
        "state": view.state,
        "lines": [
            {"key": line.key, "ts": line.at.timestamp(), "text": line.text} for line in view.lines
        ],
    }
    if view.state == "waiting":
        frame["position"] = view.position
        frame["wait"] = wait_text(view.wait_minutes)
    if view.librarian is not None:
        frame["librarian"] = view.librarian
    if view.typing is not None:
        frame["typing"] = view.typing
    return frame


class HandoffWatcher(StoreSessions):
    """Reads the open conversations' handoffs and pushes what changed to their tabs."""

    def __init__(
        self,
        hub: ConnectionHub,
        poll_seconds: float,
        sessions: sessionmaker[Session] | None = None,
        always_staffed: bool | None = None,
    ) -> None:
        super().__init__(sessions)
        self.hub = hub
        self.poll_seconds = poll_seconds
        self._always = always_staffed
        self._sent: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._typing_written: dict[str, float] = {}

    def _staffed(self) -> bool:
        always = self._always
        if always is None:
            always = self._always = ActionsConfig().chat_always_staffed
        return staffed_at(load_profile(), clock.now(), always)

    def read(self, session_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The frames of these conversations, read in one transaction (blocking)."""
        staffed = self._staffed()
        with self.sessions() as session:
            available = staffed and librarians_online(session) > 0
            return {
                sid: handoff_frame(handoff_view(session, sid), available) for sid in session_ids
            }

    async def _read(self, session_ids: list[str]) -> dict[str, dict[str, Any]]:
        try:
            return await asyncio.to_thread(self.read, session_ids)
        except SQLAlchemyError:
            # The widget keeps what it shows; the next round tries again.
            logger.exception("could not read the handoffs of the open web chats")
            return {}

    def _write_typing(self, session_id: str, on: bool) -> None:
        with self.sessions.begin() as session:
            set_reader_typing(session, session_id, on, clock.now())

    async def reader_typing(self, session_id: str, on: bool) -> bool:
        """Record the reader's typing for the console; returns whether it wrote.

        A reader typing on is written at most once every ``REFRESH_SECONDS`` per
        conversation (the signal lasts longer than that), "stopped" only after an
        "on" was written; so a widget, however chatty, costs few store writes.
        """
        last = self._typing_written.get(session_id)
        if on and last is not None and time.monotonic() - last < REFRESH_SECONDS:
            return False
        if not on and last is None:
            return False
        if on:
            self._typing_written[session_id] = time.monotonic()
        else:
            del self._typing_written[session_id]
        try:
            await asyncio.to_thread(self._write_typing, session_id, on)
        except SQLAlchemyError:
            logger.exception("could not record that a web chat reader is typing")
            return False
        return True

    async def greet(self, session_id: str) -> dict[str, Any] | None:
        """The frame a tab gets right after its history; None when the store is down."""
        self.start()
        frame = (await self._read([session_id])).get(session_id)
        if frame is not None:
            self._sent[session_id] = frame
        return frame

    async def poll_once(self) -> int:
        """One round: push each open conversation's frame if it changed; returns how many."""
        open_ids = self.hub.session_ids()
        for gone in set(self._sent) - set(open_ids):
            del self._sent[gone]
        for gone in set(self._typing_written) - set(open_ids):
            del self._typing_written[gone]
        if not open_ids:
            return 0
        pushed = 0
        for sid, frame in (await self._read(open_ids)).items():
            if self._sent.get(sid) != frame:
                self._sent[sid] = frame
                await self.hub.send(sid, frame)
                pushed += 1
        return pushed

    def start(self) -> None:
        """Start polling on the running loop (once; the first socket starts it)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bad round must not end the pushes for every reader.
                logger.exception("the web chat handoff round failed")
