"""The widget's per-conversation line (bounded, in order, fair between tabs) and its hub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from connectors.webchat.hub import ConnectionHub
from connectors.webchat.lines import QueuedMessage, SessionLine, SessionLines
from connectors.webchat.protocol import ClientFrame
from connectors.webchat.settings import DEFAULT_QUEUE_SIZE, WebchatSettings
from tests.aio import run

Handler = Callable[[QueuedMessage], Awaitable[None]]


async def _nothing(_: QueuedMessage) -> None:
    return None


def message(message_id: str, socket: object, handler: Handler = _nothing) -> QueuedMessage:
    return QueuedMessage(ClientFrame("message", id=message_id, text=message_id), socket, handler)


def test_a_line_holds_its_capacity_and_refuses_the_next() -> None:
    tab = object()
    line = SessionLine("s", capacity=3)
    accepted = [line.offer(message(f"m{i}", tab), sockets_open=1) for i in range(4)]
    assert accepted == [True, True, True, False]
    assert sorted(line.waiting) == ["m0", "m1", "m2"]


def test_each_tab_gets_its_share_so_one_tab_cannot_fill_the_line() -> None:
    busy, quiet = object(), object()
    line = SessionLine("s", capacity=4)
    flood = [line.offer(message(f"b{i}", busy), sockets_open=2) for i in range(5)]
    assert flood == [True, True, False, False, False]
    assert line.offer(message("q0", quiet), sockets_open=2) is True
    assert line.offer(message("q1", quiet), sockets_open=2) is True
    assert line.offer(message("q2", quiet), sockets_open=2) is False  # line full


def test_more_tabs_than_places_still_gives_every_tab_one() -> None:
    tabs = [object() for _ in range(8)]
    line = SessionLine("s", capacity=3)
    accepted = [line.offer(message(f"t{i}", t), sockets_open=8) for i, t in enumerate(tabs)]
    assert accepted == [True, True, True, False, False, False, False, False]


def test_messages_are_served_in_the_order_they_arrived_whichever_tab_sent_them() -> None:
    a, b, c = object(), object(), object()
    line = SessionLine("s", capacity=9)
    arrivals = [("a1", a), ("b1", b), ("a2", a), ("c1", c), ("a3", a), ("c2", c)]
    for message_id, tab in arrivals:
        assert line.offer(message(message_id, tab), sockets_open=3)
    served = []
    while (queued := line.next()) is not None:
        served.append(queued.frame.id)
    assert served == [message_id for message_id, _ in arrivals]


def test_a_tab_gets_its_places_back_as_its_messages_are_served() -> None:
    busy, other = object(), object()
    line = SessionLine("s", capacity=2)
    assert [line.offer(message(f"b{i}", busy), sockets_open=2) for i in range(2)] == [
        True,
        False,
    ]
    served = line.next()
    assert served is not None and served.frame.id == "b0"
    assert line.offer(message("b2", busy), sockets_open=2) is True
    assert line.offer(message("o0", other), sockets_open=2) is True
    assert line.offer(message("o1", other), sockets_open=2) is False  # line full


def test_the_line_processes_one_message_at_a_time_then_goes_away() -> None:
    async def scenario() -> tuple[list[str], int, bool]:
        lines = SessionLines(capacity=5)
        tab = object()
        log: list[str] = []
        running = 0
        most = 0

        async def handler(queued: QueuedMessage) -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            log.append(f"start {queued.frame.id}")
            await asyncio.sleep(0)
            if queued.frame.id == "m1":
                # Taken in while m1 is being processed: it waits its turn.
                lines.offer("s", message("m3", tab, handler), 1)
            log.append(f"end {queued.frame.id}")
            running -= 1

        for message_id in ["m1", "m2"]:
            assert lines.offer("s", message(message_id, tab, handler), 1)
        assert lines.waiting("s", "m2") is not None
        while lines.has_work("s"):
            await asyncio.sleep(0.01)
        return log, most, lines.has_work("s")

    log, most, still_there = run(scenario())
    assert log == ["start m1", "end m1", "start m2", "end m2", "start m3", "end m3"]
    assert most == 1
    assert still_there is False


def test_a_failing_handler_does_not_stop_the_line() -> None:
    async def scenario() -> list[str]:
        lines = SessionLines(capacity=5)
        tab = object()
        done: list[str] = []

        async def handler(queued: QueuedMessage) -> None:
            if queued.frame.id == "bad":
                raise RuntimeError("boom")
            done.append(str(queued.frame.id))

        for message_id in ["bad", "good"]:
            lines.offer("s", message(message_id, tab, handler), 1)
        while lines.has_work("s"):
            await asyncio.sleep(0.01)
        return done

    assert run(scenario()) == ["good"]


def test_settings_come_from_the_environment_and_bad_values_fail_clearly() -> None:
    assert WebchatSettings.from_env({}).queue_size == DEFAULT_QUEUE_SIZE
    settings = WebchatSettings.from_env(
        {"RIC_WEBCHAT_QUEUE_SIZE": "3", "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS": "2.5"}
    )
    assert (settings.queue_size, settings.send_timeout_seconds) == (3, 2.5)
    assert WebchatSettings.from_env({}, {"queue_size": 4}).queue_size == 4
    with pytest.raises(ValueError, match="RIC_WEBCHAT_QUEUE_SIZE"):
        WebchatSettings.from_env({"RIC_WEBCHAT_QUEUE_SIZE": "lots"})
    with pytest.raises(ValueError, match="at least 1"):
        WebchatSettings.from_env({"RIC_WEBCHAT_QUEUE_SIZE": "0"})
    with pytest.raises(ValueError, match="RIC_WEBCHAT_SEND_TIMEOUT_SECONDS"):
        WebchatSettings.from_env({"RIC_WEBCHAT_SEND_TIMEOUT_SECONDS": "-1"})


class _Tab:
    """A tab whose connection takes every frame at once."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []

    async def send(self, data: str) -> None:
        self.received.append(json.loads(data))


class _StalledTab:
    """A tab whose connection has stopped taking frames (a suspended laptop, a dead proxy)."""

    def __init__(self) -> None:
        self.closed_with: int | None = None

    async def send(self, data: str) -> None:
        await asyncio.Event().wait()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code


def test_a_stalled_tab_is_closed_instead_of_holding_up_the_others() -> None:
    async def scenario() -> tuple[int, int, _Tab, _StalledTab]:
        hub = ConnectionHub(send_timeout_seconds=0.05)
        healthy, stalled = _Tab(), _StalledTab()
        hub.add("s", healthy)
        hub.add("s", stalled)
        delivered = await hub.send("s", {"type": "typing", "on": True})
        await asyncio.sleep(0.05)  # the close runs on its own
        return delivered, hub.connected("s"), healthy, stalled

    delivered, still_connected, healthy, stalled = run(scenario())
    assert (delivered, still_connected) == (1, 1)
    assert healthy.received == [{"type": "typing", "on": True}]
    assert stalled.closed_with == 1013  # it reconnects and replays what it missed


def test_a_resend_from_another_tab_moves_the_ack_but_not_the_place() -> None:
    first_tab, reconnected = object(), object()
    line = SessionLine("s", capacity=2)
    waiting = message("m1", first_tab)
    assert line.offer(waiting, sockets_open=2) is True
    waiting.reply_to = reconnected  # what the socket does for a re-sent waiting id
    assert line.offer(message("r1", reconnected), sockets_open=2) is True
    assert line.next() is waiting
    assert line.offer(message("m2", first_tab), sockets_open=2) is True  # its place is back
