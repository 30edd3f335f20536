"""Helpers for the tests of the console's live updates (``/api/events``).

:class:`EventStream` reads a running console's Server-Sent Events in a background
thread, as a browser's ``EventSource`` would; :func:`add_conversation` stores a
conversation for the event poller to find, in a handoff or not.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation, Handoff, HandoffStatus

__all__ = ["STARTED", "EventStream", "add_conversation"]

STARTED = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
"""When the conversations :func:`add_conversation` stores started."""


def add_conversation(sessions: sessionmaker[Session], sender_id: str, handoff: bool) -> int:
    """Store a web chat conversation, with a waiting handoff if ``handoff``; its row id."""
    with sessions.begin() as session:
        conversation = Conversation(
            sender_id=sender_id, channel="webchat", started_at=STARTED, last_activity_at=STARTED
        )
        session.add(conversation)
        session.flush()
        if handoff:
            session.add(
                Handoff(
                    conversation_id=conversation.id, reason="asked", status=HandoffStatus.WAITING
                )
            )
        return int(conversation.id)


class EventStream(threading.Thread):
    """Collects one console's Server-Sent Events, ``(name, data)``, in the background.

    Args:
        port: The console's port on 127.0.0.1.
        token: A staff member's API token.
    """

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port, self.token = port, token
        self.events: list[tuple[str, Any]] = []
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        """Read events until the stream ends or :meth:`close` cuts it."""
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.connection.request(
            "GET", "/api/events", headers={"Authorization": f"Bearer {self.token}"}
        )
        reply = self.connection.getresponse()
        name = data = ""
        try:
            while raw := reply.readline():
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and name:
                    self.events.append((name, json.loads(data)))
                    name = data = ""
        except (OSError, ValueError):
            return

    def notes(self, body: str) -> list[dict[str, Any]]:
        """The ``note`` events seen so far whose note reads ``body``."""
        return [d for n, d in list(self.events) if n == "note" and d["note"]["body"] == body]

    def wait(self, probe: Callable[[], Any], timeout: float = 20.0) -> Any:
        """``probe()``'s first truthy value, asked every 50 ms; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := probe():
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out; events so far: {self.events}")

    def close(self) -> None:
        """End the stream (the thread then returns)."""
        # shutdown, not close: the response's file still holds the socket open.
        if self.connection is not None and self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
            self.connection.close()
