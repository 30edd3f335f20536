"""A minimal widget client for tests, speaking the webchat WebSocket protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from websockets.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed


class WidgetClient:
    """One browser tab's socket, without a browser."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}  # e.g. Origin, X-Forwarded-For (tests/trust)
        self.ws: Any = None
        self.session_id: str | None = None
        self.history: list[dict[str, Any]] = []

    async def connect(self, session_id: str | None = None, since: float = 0.0) -> WidgetClient:
        self.ws = await ws_connect(self.url, max_size=2**20, extra_headers=self.headers)
        await self.send({"type": "hello", "session_id": session_id, "since": since})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        self.session_id = welcome["session_id"]
        history = await self.recv()
        assert history["type"] == "history", history
        self.history = history["messages"]
        return self

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 30.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_until(self, kind: str, timeout: float = 30.0) -> dict[str, Any]:
        """Skip frames until one of type ``kind`` arrives."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == kind:
                return frame

    async def say(
        self, text: str, message_id: str | None = None, **extra: Any
    ) -> list[dict[str, Any]]:
        """Send a message and collect everything up to the end of the bot's turn."""
        frame_id = message_id or uuid.uuid4().hex
        await self.send({"type": "message", "id": frame_id, "text": text, **extra})
        return await self.turn()

    async def click(self, title: str, payload: str) -> list[dict[str, Any]]:
        await self.send(
            {"type": "button", "id": uuid.uuid4().hex, "title": title, "payload": payload}
        )
        return await self.turn()

    async def turn(self) -> list[dict[str, Any]]:
        frames = []
        while True:
            frame = await self.recv()
            frames.append(frame)
            if frame["type"] == "error" or (frame["type"] == "typing" and frame["on"] is False):
                return frames
            if frame["type"] == "ack" and frame.get("duplicate"):
                return frames

    async def close(self) -> None:
        await self.ws.close()

    def record(self) -> Recorder:
        """Start reading this socket in the background (``recv`` must not be used after)."""
        return Recorder(self)


def bot_texts(frames: list[dict[str, Any]]) -> list[str]:
    """The text of each bot message among ``frames``."""
    return [f["text"] for f in frames if f["type"] == "bot"]


class Recorder:
    """Reads every frame of a client's socket in the background and keeps them.

    Reading all the time is what a browser does; it also keeps the client's own
    keepalive working while a test sends a burst.
    """

    def __init__(self, client: WidgetClient) -> None:
        self.client = client
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for data in self.client.ws:
                self.frames.append(json.loads(data))
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self._arrived.set()

    @property
    def close_code(self) -> int | None:
        """The close code once the socket has closed; None while it is open."""
        code = self.client.ws.close_code
        return None if code is None else int(code)

    async def wait_for(
        self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0
    ) -> bool:
        """Wait until ``done(frames)`` holds, the socket closes, or ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.frames):
            if self.task.done() or loop.time() >= deadline:
                return done(self.frames)
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - loop.time()))
        return True

    def outcome(self, message_id: str) -> str | None:
        """What the server said about a message: ``processed``, ``duplicate``, or an error code."""
        for frame in self.frames:
            if frame.get("id") != message_id:
                continue
            if frame["type"] == "ack":
                return "duplicate" if frame.get("duplicate") else "processed"
            if frame["type"] == "error":
                return str(frame.get("code"))
        return None
