"""Rasa's work per reader message in a paused conversation, with and without the fast path.

Loads the cached demo model into an in-process ``Agent`` with the project's tracker
store (SQLite in a temporary folder) and a real action server started for the run,
pauses 20 conversations, and sends 100 messages in batches of 20 concurrent ones.
Prints CPU and wall milliseconds per message, once with Rasa's own processing and once
with ``rasa_plugins.paused_fast_path`` (no NLU and no slot extraction while paused)::

    .venv/bin/python -m benchmarks.paused_processing

Each mode runs in its own process, so one cannot warm caches for the other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def measure(fast_path: bool, messages: int, concurrency: int) -> tuple[float, float]:
    """CPU and wall milliseconds per paused message in this process."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.shared.core.events import ConversationPaused
    from rasa.utils.endpoints import EndpointConfig

    from launcher.training import ensure_model
    from rasa_plugins import paused_fast_path
    from rasa_plugins.tracker_store import IngestingTrackerStore

    store = IngestingTrackerStore()  # installs the fast path; undone when not wanted
    if not fast_path:
        paused_fast_path.uninstall()
    agent = Agent.load(
        str(ensure_model()),
        tracker_store=store,
        lock_store=InMemoryLockStore(),
        action_endpoint=EndpointConfig(os.environ["RIC_ACTION_ENDPOINT"]),
    )
    senders = [f"reader-{i}" for i in range(concurrency)]
    for sender in senders:
        await agent.handle_message(UserMessage("hello", CollectingOutputChannel(), sender))
        tracker = await store.retrieve(sender)
        assert tracker is not None
        tracker.update(ConversationPaused())
        await store.save(tracker)

    async def one(i: int) -> None:
        text = f"message {i}: still there? my books are overdue"
        await agent.handle_message(
            UserMessage(text, CollectingOutputChannel(), senders[i % concurrency])
        )

    for i in range(concurrency):  # warm-up
        await one(i)
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, messages, concurrency):
        await asyncio.gather(*(one(i) for i in range(start, start + concurrency)))
    return (
        (time.process_time() - cpu) * 1000 / messages,
        (time.perf_counter() - wall) * 1000 / messages,
    )


def _wait_for(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback http)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> None:
    """Start an action server, then measure each mode in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--mode", choices=["plain", "fast"], default=None)
    args = parser.parse_args()
    if args.mode:
        cpu, wall = asyncio.run(measure(args.mode == "fast", args.messages, args.concurrency))
        print(
            f"{args.mode}: {args.messages} paused messages, {args.concurrency} at a time: "
            f"cpu {cpu:.1f} ms/msg, wall {wall:.1f} ms/msg",
            flush=True,
        )
        return
    from tests.system import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "RIC_STORE_LOGGING": "off",
            "RIC_ACTION_ENDPOINT": f"http://127.0.0.1:{port}/webhook",
            # The action server refuses calls without it (docs/security.md).
            "RIC_ACTIONS_TOKEN": secrets.token_urlsafe(32),
            "RIC_ACTIONS_PORT": str(port),
            "PYTHONPATH": str(ROOT),
        }
        actions = subprocess.Popen(
            [sys.executable, "-m", "actions.server"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for(f"http://127.0.0.1:{port}/health")
            for mode in ("plain", "fast"):
                env["RIC_TRACKER_DATABASE_URL"] = f"sqlite:///{folder}/tracker-{mode}.db"
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.paused_processing", "--mode", mode,
                     "--messages", str(args.messages), "--concurrency", str(args.concurrency)],
                    cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL,
                )  # fmt: skip
        finally:
            actions.terminate()
            actions.wait()


if __name__ == "__main__":
    main()
