"""A widget socket the server should refuse: open it, say hello, and read how it closed."""

from __future__ import annotations

import asyncio
import json

from websockets.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

__all__ = ["closed_with"]


async def closed_with(
    url: str, headers: dict[str, str], session_id: str | None = None
) -> tuple[int | None, str | None]:
    """Open a socket with ``headers`` and say hello; the code and reason it was closed with.

    Args:
        url: The widget's WebSocket URL.
        headers: What the client sends, such as ``Origin`` or ``X-Forwarded-For``.
        session_id: The conversation the hello resumes, or None for a new one.

    Raises:
        AssertionError: The server answered the hello instead of closing.
    """
    ws = await ws_connect(url, extra_headers=headers)
    try:
        # A refused socket is closed before any frame; a served one would answer.
        await ws.send(json.dumps({"type": "hello", "session_id": session_id, "since": 0}))
        frame = await asyncio.wait_for(ws.recv(), 20)
    except ConnectionClosed:
        await ws.wait_closed()
        return ws.close_code, ws.close_reason
    finally:
        await ws.close()
    raise AssertionError(f"a socket with {headers} was served: {frame!r}")
