"""End-to-end latency and throughput through the web widget channel.

Starts a Rasa server and an action server on the trained demo model (cached), once with
live reader-store logging on and once with it off, and drives the WebSocket channel:

- 1 client sending messages one after another, and
- 16 clients sending concurrently,

timing each message from send to the end of the bot's turn (the ``typing: off`` frame).
Each client holds conversations of 10 messages, then starts a new one.
Run: ``.venv/bin/python -m benchmarks.webchat_latency [--messages 200] [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from websockets.client import connect as ws_connect

from launcher.services import actions_service, rasa_service, worker_service
from launcher.settings import load_settings
from launcher.supervisor import Supervisor
from launcher.training import ensure_model

PHRASES = ["hello", "thanks", "are you a bot?", "bye", "hi there", "thank you so much"]
# Real chats are short; Rasa reloads the whole tracker every turn, so one endless
# conversation would measure tracker size rather than the channel.
TURNS_PER_CONVERSATION = 10


@dataclass
class Result:
    """Latencies (seconds) of completed turns and the wall time they took."""

    latencies: list[float]
    wall: float

    def summary(self) -> dict[str, float]:
        """p50, p99 (ms) and messages per second."""
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return {
            "messages": len(ordered),
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": p99 * 1000,
            "msg_per_s": len(ordered) / self.wall,
        }


async def _client(url: str, deadline: float, limit: int, latencies: list[float]) -> None:
    """One reader: conversations of ``TURNS_PER_CONVERSATION`` messages, back to back."""
    sent = 0
    while time.monotonic() < deadline and sent < limit:
        async with ws_connect(url, max_size=2**20) as ws:
            await ws.send(
                json.dumps({"type": "hello", "session_id": str(uuid.uuid4()), "since": 0})
            )
            await ws.recv()
            await ws.recv()
            for turn in range(TURNS_PER_CONVERSATION):
                if time.monotonic() >= deadline or sent >= limit:
                    break
                started = time.perf_counter()
                text = PHRASES[turn % len(PHRASES)]
                await ws.send(json.dumps({"type": "message", "id": uuid.uuid4().hex, "text": text}))
                while True:
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "typing" and frame["on"] is False:
                        break
                latencies.append(time.perf_counter() - started)
                sent += 1


async def drive(url: str, clients: int, seconds: float, limit: int) -> Result:
    """Run ``clients`` concurrent readers for ``seconds`` (or ``limit`` messages each)."""
    latencies: list[float] = []
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(_client(url, deadline, limit, latencies) for _ in range(clients)))
    return Result(latencies, time.monotonic() - started)


def measure(
    model: Path, logging_on: bool, messages: int, seconds: float
) -> dict[str, dict[str, float]]:
    """Start the servers with logging on or off and measure 1 and 16 clients."""
    # On: the default, the worker tailing the tracker store. Off: no reader-store work at all.
    os.environ["RIC_STORE_LOGGING"] = "tail" if logging_on else "off"
    # Every simulated reader comes from loopback, as fast as the bot answers: lift the
    # per-reader rate limits (docs/security.md), which would otherwise refuse them.
    for variable in ("RIC_RATE_LIMIT_WEBCHAT_SESSION", "RIC_RATE_LIMIT_WEBCHAT_IP"):
        os.environ[variable] = "1000000/minute"
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp))
        from launcher.cli import prepare

        prepare(settings)
        services = [actions_service(settings), rasa_service(settings, model)]
        if logging_on:
            services.append(worker_service(settings))
        supervisor = Supervisor(services)
        supervisor.start_all()
        try:
            supervisor.wait_ready(timeout=300, progress=lambda _: None)
            url = f"ws://127.0.0.1:{settings.rasa_port}/webhooks/webchat/ws"
            asyncio.run(drive(url, 4, 5, 20))  # warm up
            one = asyncio.run(drive(url, 1, seconds, messages)).summary()
            sixteen = asyncio.run(drive(url, 16, seconds, messages)).summary()
        finally:
            supervisor.stop()
    return {"1 client": one, "16 clients": sixteen}


def main() -> None:
    """Measure with store logging on and off, and print both and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="cap per client")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration per scenario")
    parser.add_argument(
        "--models", nargs="+", type=Path, default=None,
        help="model files to compare one after another (default: the cached model of "
        "the current data); e.g. a DIET model trained from benchmarks/configs/diet.yml",
    )  # fmt: skip
    parser.add_argument(
        "--logging", nargs="+", choices=("on", "off"), default=["on", "off"],
        help="reader-store logging modes to measure",
    )  # fmt: skip
    args = parser.parse_args()
    for port in ("RIC_RASA_PORT", "RIC_ACTIONS_PORT"):
        os.environ.setdefault(port, "5105" if "RASA" in port else "5155")
    # One model per run, even if the data changes meanwhile.
    models = args.models or [ensure_model()]
    for model in models:
        print(f"model: {model.name}")
        results = {
            f"logging {mode}": measure(model, mode == "on", args.messages, args.seconds)
            for mode in args.logging
        }
        print(f"{'scenario':<28}{'messages':>9}{'p50 ms':>9}{'p99 ms':>9}{'msg/s':>8}")
        for mode, scenarios in results.items():
            for name, s in scenarios.items():
                print(
                    f"{mode + ', ' + name:<28}{s['messages']:>9.0f}{s['p50_ms']:>9.1f}"
                    f"{s['p99_ms']:>9.1f}{s['msg_per_s']:>8.1f}"
                )
        if len(results) == 2:
            for name in ("1 client", "16 clients"):
                on, off = results["logging on"][name], results["logging off"][name]
                cost = 1 - on["msg_per_s"] / off["msg_per_s"]
                print(f"store logging throughput cost, {name}: {cost:+.1%}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
