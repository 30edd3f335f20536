"""Soak and fault runs on the whole system, loopback only, bounded in time (issue 18).

Starts the system exactly as ``./ric up`` does (``python -m launcher up``, SQLite, its
own ``var`` folder and free ports) and drives the web widget with readers that behave
like the widget: each message has an id, a reader that loses its socket reconnects with
its session id and re-sends what was not acknowledged (``resend``), as the widget's
outbox does.

Phases (each optional):

- **soak**: ``--clients`` readers for ``--minutes``; messages sent and answered, errors,
  p50/p99, and the resident memory (RSS) of each process after warm-up and at the end.
- **faults**: readers keep talking while the Rasa server, the action server, the console
  and the worker are each killed with SIGKILL, one at a time; the launcher's supervisor
  restarts them. Afterwards every reader message must be in the reader store exactly once
  and every reader must have reconnected.

Run: ``.venv/bin/python -m benchmarks.soak [--minutes 10] [--clients 16] [--no-faults]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy import text as sql
from websockets.client import connect as ws_connect

from tests.aio import run as run_async
from tests.system import RunningSystem, start_system

PHRASES = ["hello", "thanks", "are you a bot?", "what can you do?", "hi there", "thank you"]
TURNS_PER_CONVERSATION = 10
SERVICE_MARKERS = {
    "rasa": "launcher.rasa_server",
    "actions": "actions.server",
    "console": "handoff_console",
    "worker": "-m\x00worker",
}
"""How each process of ``launcher up`` is recognised on its command line."""
ONE_ADDRESS_LIMITS = {
    "RIC_RATE_LIMIT_WEBCHAT_SESSION": "100000/minute",
    "RIC_RATE_LIMIT_WEBCHAT_IP": "100000/minute",
}
"""Every reader here comes from 127.0.0.1; the per-address rate limit would refuse most
of them, which is not what a soak measures (tests/trust covers the limits)."""


@dataclass
class Tally:
    """What all readers did."""

    latencies: list[float] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    answered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0

    def summary(self, wall: float) -> dict[str, float]:
        """Counts, p50 and p99 (ms) and the answered rate."""
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return {
            "sent": len(self.sent),
            "answered": self.answered,
            "errors": sum(self.errors.values()),
            "reconnects": self.reconnects,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": p99 * 1000,
            "msg_per_s": self.answered / wall if wall else 0.0,
        }


class Reader:
    """One widget tab: a session id it keeps, and an outbox it re-sends after a reconnect."""

    def __init__(self, url: str, name: str, tally: Tally) -> None:
        self.url = url
        self.name = name
        self.tally = tally
        self.session_id: str | None = None
        self.ws: Any = None

    async def _connect(self, deadline: float, after_drop: bool = False) -> bool:
        """Open the socket and say hello, retrying with backoff until ``deadline``.

        A reader whose socket dropped mid-turn has its reconnect counted by the caller
        (``after_drop``); one that was opening a new conversation's socket when the server
        went away counts it here, once, when its first attempt fails.
        """
        delay = 0.5
        counted = after_drop
        while time.monotonic() < deadline:
            try:
                self.ws = await ws_connect(self.url, max_size=2**20, open_timeout=10)
                await self.ws.send(
                    json.dumps({"type": "hello", "session_id": self.session_id, "since": 0})
                )
                welcome = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
                await asyncio.wait_for(self.ws.recv(), 30)  # history
                self.session_id = welcome["session_id"]
                return True
            except Exception:  # any failure (refused, reset, timeout): retry
                if not counted:
                    self.tally.reconnects += 1
                    counted = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return False

    async def _turn(self, message_id: str, text: str, resend: bool) -> bool:
        """Send one message; True once it is acknowledged and the bot's turn has ended."""
        frame = {"type": "message", "id": message_id, "text": text, "resend": resend}
        await self.ws.send(json.dumps(frame))
        acked = ended = False
        while not (acked and ended):
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if reply.get("type") == "ack" and reply.get("id") == message_id:
                acked = True
                ended = ended or bool(reply.get("duplicate"))
            elif reply.get("type") == "typing" and reply.get("on") is False:
                ended = True
            elif reply.get("type") == "error" and reply.get("id") == message_id:
                self.tally.errors[str(reply.get("code"))] += 1
                if reply.get("code") != "busy":
                    return True  # a defined refusal: the widget shows it, nothing to re-send
                await asyncio.sleep(1.0)
                return False
        return True

    async def run(self, deadline: float) -> None:
        """Talk until ``deadline``: conversations of ``TURNS_PER_CONVERSATION`` messages."""
        count = 0
        while time.monotonic() < deadline:
            self.session_id = None
            if not await self._connect(deadline):
                return
            for turn in range(TURNS_PER_CONVERSATION):
                if time.monotonic() >= deadline:
                    break
                count += 1
                text = f"{PHRASES[turn % len(PHRASES)]} ({self.name}.{count})"
                message_id = uuid.uuid4().hex
                self.tally.sent.append(text)
                started = time.perf_counter()
                resend = False
                while True:
                    try:
                        if await self._turn(message_id, text, resend):
                            break
                    except Exception:  # the socket went away: reconnect, re-send
                        self.tally.reconnects += 1
                        if not await self._connect(time.monotonic() + 180, after_drop=True):
                            self.tally.errors["gave_up"] += 1
                            return
                        resend = True
                self.tally.latencies.append(time.perf_counter() - started)
                self.tally.answered += 1
            await self.ws.close()


async def drive(url: str, clients: int, seconds: float, tally: Tally) -> float:
    """Run ``clients`` readers for ``seconds``; return the wall time."""
    started = time.monotonic()
    deadline = started + seconds
    run = uuid.uuid4().hex[:6]  # texts stay unique across phases and runs
    readers = [Reader(url, f"{run}-r{i}", tally) for i in range(clients)]
    await asyncio.gather(*(reader.run(deadline) for reader in readers))
    return time.monotonic() - started


def service_pids(system: RunningSystem) -> dict[str, int]:
    """The pid of each process that ``launcher up`` supervises, read from ``/proc``."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent != system.process.pid:
            continue
        for name, marker in SERVICE_MARKERS.items():
            if marker in cmdline:
                found[name] = int(entry.name)
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(system: RunningSystem) -> dict[str, float]:
    """RSS (MB) of every supervised process."""
    return {name: rss_mb(pid) for name, pid in sorted(service_pids(system).items())}


def stored_reader_texts(store_url: str) -> Counter[str]:
    """How often each reader message text is in the reader store at ``store_url``."""
    engine = create_engine(store_url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(
            sql("SELECT text FROM messages WHERE sender_kind = 'reader'")
        ).all()
    engine.dispose()
    return Counter(str(row[0]) for row in rows if row[0])


def wait_for_ingestion(store_url: str, sent: list[str], timeout: float = 180.0) -> Counter[str]:
    """Wait until the worker has ingested every sent message (or ``timeout`` passes);
    return what the store then holds."""
    deadline = time.monotonic() + timeout
    stored = stored_reader_texts(store_url)
    while not all(stored[message] for message in sent) and time.monotonic() < deadline:
        time.sleep(2.0)
        stored = stored_reader_texts(store_url)
    return stored


def wait_for_service(system: RunningSystem, name: str, old_pid: int, timeout: float) -> float:
    """Seconds until the supervisor has restarted ``name`` under a new pid."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pid = service_pids(system).get(name)
        if pid and pid != old_pid:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(f"{name} was not restarted within {timeout:.0f}s")


async def kill_each(system: RunningSystem, names: list[str], pause: float) -> dict[str, float]:
    """SIGKILL each named process in turn, ``pause`` seconds apart; restart times."""
    restarted: dict[str, float] = {}
    for name in names:
        await asyncio.sleep(pause)
        pid = service_pids(system)[name]
        os.kill(pid, signal.SIGKILL)
        restarted[name] = await asyncio.to_thread(wait_for_service, system, name, pid, 120.0)
    return restarted


@dataclass
class FaultReport:
    """The outcome of a fault run."""

    tally: Tally
    restart_seconds: dict[str, float]
    missing: list[str]
    duplicated: list[str]
    wall: float


def fault_run(system: RunningSystem, clients: int, pause: float, tail: float = 60.0) -> FaultReport:
    """Readers talk while each process is killed; then check the reader store.

    Traffic lasts until every process has been killed, plus ``tail`` seconds in which
    the restarted processes must carry it.
    """
    tally = Tally()
    names = list(SERVICE_MARKERS)
    seconds = pause * len(names) + tail

    async def both() -> tuple[float, dict[str, float]]:
        traffic = asyncio.create_task(drive(system.ws_url, clients, seconds, tally))
        restarts = await kill_each(system, names, pause)
        return await traffic, restarts

    wall, restarts = run_async(both())
    stored = wait_for_ingestion(system.database_url, tally.sent)
    missing = [text for text in tally.sent if stored[text] == 0]
    duplicated = [text for text in tally.sent if stored[text] > 1]
    return FaultReport(tally, restarts, missing, duplicated, wall)


def print_summary(label: str, summary: dict[str, float]) -> None:
    """One line of figures."""
    print(
        f"{label}: sent {summary['sent']:.0f}, answered {summary['answered']:.0f}, "
        f"errors {summary['errors']:.0f}, reconnects {summary['reconnects']:.0f}, "
        f"p50 {summary['p50_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, "
        f"{summary['msg_per_s']:.1f} msg/s",
        flush=True,
    )


def soak(system: RunningSystem, clients: int, minutes: float, warmup: float) -> None:
    """The soak phase: warm up, then ``minutes`` of traffic; print figures and memory."""
    run_async(drive(system.ws_url, clients, warmup, Tally()))
    before = memory(system)
    tally = Tally()
    wall = run_async(drive(system.ws_url, clients, minutes * 60, tally))
    after = memory(system)
    print_summary(f"soak, {clients} clients, {minutes:g} min", tally.summary(wall))
    if tally.errors:
        print(f"  errors by kind: {dict(tally.errors)}")
    print(f"  {'process':<10}{'RSS after warm-up':>19}{'RSS at end':>12}{'growth':>9}")
    for name, start in before.items():
        end = after.get(name, 0.0)
        growth = (end - start) / start if start else 0.0
        print(f"  {name:<10}{start:>16.0f} MB{end:>9.0f} MB{growth:>+9.1%}")
    stored = wait_for_ingestion(system.database_url, tally.sent)
    lost = sum(1 for text in tally.sent if stored[text] == 0)
    doubled = sum(1 for text in tally.sent if stored[text] > 1)
    print(f"  reader store: {len(tally.sent) - lost} of {len(tally.sent)} stored, {lost} "
          f"missing, {doubled} stored twice", flush=True)  # fmt: skip


def main() -> None:
    """Start the system, run the chosen phases, print the figures, stop the system."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="soak duration")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the soak")
    parser.add_argument("--no-soak", action="store_true")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--fault-clients", type=int, default=8)
    parser.add_argument("--fault-pause", type=float, default=30.0, help="seconds between kills")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = start_system(Path(tmp) / "var", extra_env=ONE_ADDRESS_LIMITS)
        try:
            if not args.no_soak:
                soak(system, args.clients, args.minutes, args.warmup)
            if not args.no_faults:
                report = fault_run(system, args.fault_clients, args.fault_pause)
                print_summary(
                    f"faults, {args.fault_clients} clients", report.tally.summary(report.wall)
                )
                for name, seconds in report.restart_seconds.items():
                    print(f"  killed {name}: restarted after {seconds:.1f} s")
                print(f"  reader store: {len(report.missing)} missing, "
                      f"{len(report.duplicated)} stored twice", flush=True)  # fmt: skip
        finally:
            system.stop()


if __name__ == "__main__":
    main()
