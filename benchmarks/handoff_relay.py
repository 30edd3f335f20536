"""Latency of the live handoff relay, both ways, with 20 concurrent handoffs.

Each simulated reader opens the web widget, asks for a librarian and is claimed by a
benchmark librarian through the console API. Then, for each round:

- librarian → reader: from the ``POST /api/conversations/{id}/messages`` call to the
  widget receiving the librarian's frame;
- reader → librarian: from the widget sending a message to the console's
  ``GET /api/events`` stream delivering it as a ``message`` event.

Run against a started system (``./ric up`` with ``RIC_CHAT_ALWAYS_STAFFED=1`` outside
chat hours)::

    .venv/bin/python -m benchmarks.handoff_relay --rasa-url http://localhost:5005 \\
        --console-url http://localhost:5006 --database-url sqlite:///var/crm.db

or let it start its own system in a temporary folder with ``--start``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select
from websockets.client import connect as ws_connect

from crm_store.db import make_engine, make_session_factory
from crm_store.models import Conversation, Message
from handoff_console.accounts import create_staff, issue_api_token


def percentiles(values: list[float]) -> str:
    """p50 and p99 in milliseconds."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"n={len(ordered)} p50={statistics.median(ordered) * 1000:.0f} ms "
        f"p99={p99 * 1000:.0f} ms max={ordered[-1] * 1000:.0f} ms"
    )


class EventStream:
    """One SSE subscription; resolves waiters by message text."""

    def __init__(self) -> None:
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.arrived_wall: dict[str, float] = {}

    def expect(self, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[text] = future
        return future

    async def run(self, client: aiohttp.ClientSession, url: str, ready: asyncio.Event) -> None:
        async with client.get(url, timeout=aiohttp.ClientTimeout(total=None)) as reply:
            ready.set()
            name = ""
            async for raw in reply.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "message":
                    text = json.loads(line[6:])["message"]["text"]
                    future = self.waiters.pop(text, None)
                    self.arrived_wall.setdefault(text, time.time())
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())


async def _recv_text(ws: Any, text: str) -> float:
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("type") == "bot" and frame.get("text") == text:
            return time.perf_counter()


async def one_reader(
    ws_url: str,
    console: str,
    client: aiohttp.ClientSession,
    sessions: Any,
    stream: EventStream,
    rounds: int,
    out: dict[str, list[float]],
    sent_wall: dict[str, float],
) -> None:
    """Run one reader's handoff and its measured rounds."""
    async with ws_connect(ws_url, max_size=2**20) as ws:
        await ws.send(json.dumps({"type": "hello", "session_id": None, "since": 0}))
        session_id = json.loads(await ws.recv())["session_id"]
        await ws.recv()
        await ws.send(
            json.dumps(
                {"type": "message", "id": uuid.uuid4().hex, "text": "I want to talk to a librarian"}
            )
        )
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "bot" and "asked a librarian" in frame.get("text", ""):
                break
            if frame.get("type") == "bot" and "aren't in the chat" in frame.get("text", ""):
                raise RuntimeError("chat not staffed: set RIC_CHAT_ALWAYS_STAFFED=1")
        conversation_id = None
        while conversation_id is None:
            with sessions() as session:
                conversation_id = session.execute(
                    select(Conversation.id).where(Conversation.sender_id == session_id)
                ).scalar_one_or_none()
            await asyncio.sleep(0.05)
        base = f"{console}/api/conversations/{conversation_id}"
        async with client.post(f"{base}/claim") as reply:
            assert reply.status == 200, await reply.text()
        for n in range(rounds):
            text = f"librarian {uuid.uuid4().hex[:8]} round {n}"
            start = time.perf_counter()
            receive = asyncio.ensure_future(_recv_text(ws, text))
            async with client.post(f"{base}/messages", json={"text": text}) as reply:
                assert reply.status == 201, await reply.text()
            out["librarian_to_reader"].append(await receive - start)

            said = f"reader {uuid.uuid4().hex[:8]} round {n}"
            arrived = stream.expect(said)
            start = time.perf_counter()
            sent_wall[said] = time.time()
            await ws.send(json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": said}))
            out["reader_to_librarian"].append(await asyncio.wait_for(arrived, 30) - start)
        async with client.post(f"{base}/resolve", json={"note": "benchmark"}) as reply:
            assert reply.status == 200, await reply.text()


async def run(rasa_url: str, console: str, database_url: str, readers: int, rounds: int) -> None:
    """Drive ``readers`` concurrent handoffs and print the latencies."""
    sessions = make_session_factory(make_engine(database_url))
    with sessions.begin() as session:
        user = create_staff(
            session,
            username=f"bench{uuid.uuid4().hex[:6]}",
            password=secrets.token_urlsafe(24),
            display_name="Bench Librarian",
        )
        # Above the 1-20 a person would get: one benchmark librarian holds every chat.
        user.capacity = readers + 10
        token = issue_api_token(session, user.id, "handoff relay benchmark")
    ws_url = rasa_url.replace("http", "ws", 1).rstrip("/") + "/webhooks/webchat/ws"
    out: dict[str, list[float]] = {"librarian_to_reader": [], "reader_to_librarian": []}
    sent_wall: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as client:
        stream = EventStream()
        ready = asyncio.Event()
        listener = asyncio.ensure_future(stream.run(client, f"{console}/api/events", ready))
        await ready.wait()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                one_reader(ws_url, console, client, sessions, stream, rounds, out, sent_wall)
                for _ in range(readers)
            )
        )
        wall = time.perf_counter() - started
        listener.cancel()
    print(f"{readers} concurrent handoffs x {rounds} rounds in {wall:.1f} s")
    print(
        f"librarian -> reader (API call to widget frame): {percentiles(out['librarian_to_reader'])}"
    )
    print(
        f"reader -> librarian (widget send to SSE event): {percentiles(out['reader_to_librarian'])}"
    )
    print_stages(sessions, sent_wall, stream.arrived_wall)


def print_stages(sessions: Any, sent: dict[str, float], arrived: dict[str, float]) -> None:
    """Split reader -> librarian into Rasa, store and console stages (wall clocks).

    ``Message.sent_at`` is the timestamp Rasa gave the user event (set when Rasa logs
    the message, before it commits the turn) and ``ingested_at`` when the worker wrote
    the row, so: Rasa = widget send to event; store = event to reader-store row (commit,
    tail, ingest); console = row to SSE event (poll, fan-out).
    """
    with sessions() as session:
        rows = session.execute(
            select(Message.text, Message.sent_at, Message.ingested_at).where(
                Message.text.in_(list(sent))
            )
        ).all()
    stages: dict[str, list[float]] = {"rasa": [], "store": [], "console": []}
    for text, sent_at, ingested_at in rows:
        if text not in arrived:
            continue
        stages["rasa"].append(sent_at.timestamp() - sent[text])
        stages["store"].append(ingested_at.timestamp() - sent_at.timestamp())
        stages["console"].append(arrived[text] - ingested_at.timestamp())
    for name, values in stages.items():
        if values:
            print(f"  stage {name:8s} {percentiles(values)}")


def main() -> None:
    """Parse arguments, optionally start a system, and run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    parser.add_argument("--console-url", default="http://localhost:5006")
    parser.add_argument("--database-url", default="sqlite:///var/crm.db")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--start",
        action="store_true",
        help="start the system (python -m launcher up) in a temporary folder",
    )
    args = parser.parse_args()
    if not args.start:
        asyncio.run(
            run(args.rasa_url, args.console_url, args.database_url, args.readers, args.rounds)
        )
        return
    from tests.system import start_system

    with tempfile.TemporaryDirectory() as folder:
        # All readers come from loopback: lift the per-address rate limit (docs/security.md).
        lifted = {"RIC_RATE_LIMIT_WEBCHAT_IP": "1000000/minute"}
        system = start_system(Path(folder), extra_env=lifted)
        try:
            asyncio.run(
                run(
                    system.rasa_url,
                    system.console_url,
                    system.database_url,
                    args.readers,
                    args.rounds,
                )
            )
        finally:
            system.stop()


if __name__ == "__main__":
    main()
