"""Live updates as Server-Sent Events: ``queue``, ``message``, ``note``, ``typing``; a heartbeat."""

from __future__ import annotations

import asyncio

from sanic import Blueprint
from sanic.request import Request

from handoff_console import api

bp = Blueprint("api_events")

EVENTS = api.Operation(
    "Server-Sent Events: `queue` (data as GET /api/queue) when the queue changes, "
    "`message` (data {conversation_id, message}) for each new message in a "
    "conversation in handoff, `note` (data {conversation_id, note}) for each new "
    "private note in any conversation, `typing` (data {conversation_ids}) when the set of "
    "conversations whose reader is typing changes; a comment heartbeat every 15 s",
    {"type": "string"},
    ok_description="An event stream",
    media="text/event-stream",
)

HEARTBEAT_SECONDS = 15.0


@api.route(bp, "GET", "/api/events", EVENTS)
async def events(request: Request) -> None:
    """Stream events until the client goes away; the current queue is sent first."""
    hub = request.app.ctx.events
    queue = hub.subscribe()
    try:
        stream = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream.send("retry: 2000\n\n")
        current = hub.current_queue()
        if current is not None:
            await stream.send(current)
        if hub.typing:
            await stream.send(hub.current_typing())
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except asyncio.TimeoutError:
                frame = ": heartbeat\n\n"
            await stream.send(frame)
    finally:
        hub.unsubscribe(queue)
