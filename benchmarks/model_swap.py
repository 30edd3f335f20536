"""What readers notice while a model goes live: reply times around ``PUT /model``.

Starts the system with a tmp model registry (``tests.studio.models_stack``: v1 trained
from a small copy of the training data), adds v2 (the same model file, so the swap loads
a full model of the real pipeline), and keeps ``--clients`` widget readers talking (one
message each every 3.2 s, under the widget's rate limit) while the studio's API
activates v2 and rolls back to v1. Prints, for the replies
before, during and after the swaps: count, p50, p99 and max seconds, how long each
activation call took, and whether every message was answered.

Run: ``.venv/bin/python -m benchmarks.model_swap [--clients 8] [--swaps 2]``
(a few minutes on 2 cores, most of it training v1 and starting the system). A reply
slower than 30 s counts as lost (the test client's timeout) and ends that reader.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from handoff_console.studio.models import TrainingInputs
from tests.studio.models_stack import ModelsStack, models_stack
from tests.webchat_client import WidgetClient, bot_texts

QUESTIONS = ("hello", "what are your opening hours", "can I renew my books", "thanks")
PAUSE_SECONDS = 3.2
"""Between one reader's messages: under the widget's 20 messages a minute per conversation."""


async def _reader(
    stack: ModelsStack, stop: asyncio.Event, log: list[tuple[float, float, bool]]
) -> None:
    widget = await WidgetClient(stack.system.ws_url).connect()
    turn = 0
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                texts = bot_texts(await widget.say(QUESTIONS[turn % len(QUESTIONS)]))
            except asyncio.TimeoutError:
                log.append((started, time.monotonic() - started, False))
                return
            log.append((started, time.monotonic() - started, bool(texts)))
            turn += 1
            await asyncio.sleep(PAUSE_SECONDS)
    finally:
        await widget.close()


def _figures(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{name:>7}: no replies"
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:>7}: {len(ordered):4d} replies, p50 {statistics.median(ordered):.2f} s, "
        f"p99 {p99:.2f} s, max {ordered[-1]:.2f} s"
    )


async def _measure(stack: ModelsStack, clients: int, swaps: int) -> None:
    stop = asyncio.Event()
    log: list[tuple[float, float, bool]] = []
    readers = [asyncio.create_task(_reader(stack, stop, log)) for _ in range(clients)]
    await asyncio.sleep(15)
    windows: list[tuple[float, float]] = []
    for swap in range(swaps):
        path = "/api/studio/models/2/activate" if swap % 2 == 0 else "/api/studio/models/rollback"
        # v2 was never evaluated, which blocks it: the benchmark overrides, with a reason.
        body = {"override": True, "reason": "benchmark"} if swap % 2 == 0 else {}
        started = time.monotonic()
        reply = await asyncio.to_thread(stack.slow_post, path, body)
        windows.append((started, time.monotonic()))
        print(f"swap {swap + 1}: {path} -> HTTP {reply.status} in {windows[-1][1] - started:.2f} s")
        await asyncio.sleep(15)
    stop.set()
    await asyncio.gather(*readers)
    first, last = windows[0][0], windows[-1][1]

    def during(at: float, took: float) -> bool:
        return any(at < end and at + took > begin for begin, end in windows)

    before = [took for at, took, _ in log if at + took < first]
    swapping = [took for at, took, _ in log if during(at, took)]
    after = [took for at, took, _ in log if at > last]
    print(_figures("before", before))
    print(_figures("during", swapping))
    print(_figures("after", after))
    print(f"answered: {sum(ok for *_, ok in log)} of {len(log)} messages")


def main(argv: list[str] | None = None) -> int:
    """Start the stack, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--swaps", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work, models_stack(Path(work)) as stack:
        live = stack.registry.get(1)
        snapshot = stack.registry.snapshot_of(1)
        assert snapshot is not None
        inputs = TrainingInputs.unpack(snapshot, Path(work) / "v1-inputs")
        stack.registry.add(live.path, inputs, source="cli", data_hash=live.data_hash,
                           evaluation=live.evaluation)  # fmt: skip
        asyncio.run(_measure(stack, args.clients, args.swaps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
