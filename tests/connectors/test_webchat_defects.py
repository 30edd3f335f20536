"""Issue 12 on the widget socket, against the real Rasa and action servers.

- 200 messages over 8 sockets of one conversation: each is processed or refused, none lost,
  and no socket is closed;
- deeply nested JSON is refused before parsing, and the socket stays open;
- a lone surrogate, NUL and C1 controls never reach Rasa.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.aio import run
from tests.system import RunningSystem
from tests.webchat_client import Recorder, WidgetClient, bot_texts

pytestmark = [pytest.mark.rasa, pytest.mark.defects]

TABS = 8
PER_TAB = 25
GREETING = "Hello! I'm the library assistant."


def user_events(system: RunningSystem, session_id: str) -> list[dict[str, Any]]:
    url = f"{system.rasa_url}/conversations/{session_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=30) as reply:
        return [e for e in json.loads(reply.read())["events"] if e["event"] == "user"]


def answered(recorder: Recorder, message_ids: list[str]) -> Callable[[object], bool]:
    """A condition: the server has said something about every one of ``message_ids``."""
    return lambda _: all(recorder.outcome(i) is not None for i in message_ids)


async def _pong(recorder: Recorder) -> bool:
    before = sum(1 for f in recorder.frames if f["type"] == "pong")
    await recorder.client.send({"type": "ping"})
    return await recorder.wait_for(
        lambda frames: sum(1 for f in frames if f["type"] == "pong") > before, timeout=30
    )


def test_200_messages_over_8_tabs_are_each_processed_or_refused(system: RunningSystem) -> None:
    ids = [[f"t{tab}-m{n:02d}" for n in range(PER_TAB)] for tab in range(TABS)]

    async def scenario() -> tuple[str, list[Recorder], list[bool], str, str | None]:
        first = await WidgetClient(system.ws_url).connect()
        assert first.session_id
        tabs = [first] + [
            await WidgetClient(system.ws_url).connect(first.session_id) for _ in range(TABS - 1)
        ]
        recorders = [tab.record() for tab in tabs]

        async def burst(tab: WidgetClient, tab_ids: list[str]) -> None:
            for message_id in tab_ids:
                await tab.send({"type": "message", "id": message_id, "text": "hello"})

        await asyncio.gather(*(burst(tab, tab_ids) for tab, tab_ids in zip(tabs, ids, strict=True)))
        for recorder, tab_ids in zip(recorders, ids, strict=True):
            await recorder.wait_for(answered(recorder, tab_ids), timeout=300)
        pongs = [await _pong(recorder) for recorder in recorders]
        # A refused message is not spent: sent again once the line is free, it is processed.
        retried = next(i for i in ids[0] if recorders[0].outcome(i) == "busy")
        await tabs[0].send({"type": "message", "id": retried, "text": "hello again"})
        await recorders[0].wait_for(
            lambda frames: any(f["type"] == "ack" and f["id"] == retried for f in frames),
            timeout=60,
        )
        retry_outcome = next(
            ("processed" if not f["duplicate"] else "duplicate")
            for f in recorders[0].frames
            if f["type"] == "ack" and f["id"] == retried
        )
        for tab in tabs:
            await tab.close()
        return first.session_id, recorders, pongs, retried, retry_outcome

    session_id, recorders, pongs, retried, retry_outcome = run(scenario())

    assert [r.close_code for r in recorders] == [1000] * TABS  # closed by us, not 1011
    assert pongs == [True] * TABS
    outcomes = {i: r.outcome(i) for r, tab_ids in zip(recorders, ids, strict=True) for i in tab_ids}
    assert {o for o in outcomes.values()} <= {"processed", "busy"}, outcomes
    processed = [i for i, o in outcomes.items() if o == "processed"]
    refused = [i for i, o in outcomes.items() if o == "busy"]
    print(f"\n200 messages over 8 tabs: {len(processed)} processed, {len(refused)} refused")
    assert len(processed) + len(refused) == TABS * PER_TAB
    for recorder in recorders:
        busy = [f for f in recorder.frames if f["type"] == "error" and f["code"] == "busy"]
        assert all(f["message"].startswith("I'm still answering") for f in busy)

    in_tracker = [e["message_id"] for e in user_events(system, session_id)]
    assert sorted(in_tracker) == sorted([*processed, retried])  # each once; no refused one
    assert retry_outcome == "processed"
    for tab_ids in ids:
        mine = [i for i in in_tracker if i in tab_ids and i != retried]
        assert mine, "every tab got some of its messages processed"
        assert mine == sorted(mine), "a tab's messages reach Rasa in the order it sent them"


def test_deeply_nested_json_gets_an_error_and_the_socket_stays_open(
    system: RunningSystem,
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        client = await WidgetClient(system.ws_url).connect()
        errors = []
        for data in ["[" * 60_000, '{"type": "ping", "x": ' + "[" * 5_000 + "]" * 5_000 + "}"]:
            await client.send(data)
            errors.append(await client.recv())
        await client.send({"type": "ping"})
        pong = await client.recv()
        frames = await client.say("hello")
        await client.close()
        return errors, pong, frames

    errors, pong, frames = run(scenario())
    assert [(e["type"], e["code"]) for e in errors] == [("error", "too_deep")] * 2
    assert pong == {"type": "pong"}
    assert bot_texts(frames)[0].startswith(GREETING)


def test_lone_surrogates_and_control_characters_never_reach_rasa(system: RunningSystem) -> None:
    async def scenario() -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        client = await WidgetClient(system.ws_url).connect()
        other_tab = await WidgetClient(system.ws_url).connect(client.session_id)
        # json.dumps writes the lone surrogate as the escape "\ud800", as a browser can.
        raw = json.dumps(
            {"type": "message", "id": "s-1", "text": "hello \ud800 open?\x00\x88 now\x1b"}
        )
        assert "\\ud800" in raw
        await client.send(raw)
        frames = await client.turn()
        echo = await other_tab.recv_until("reader")
        await client.close()
        await other_tab.close()
        assert client.session_id
        return client.session_id, frames, echo

    session_id, frames, echo = run(scenario())
    assert [f for f in frames if f["type"] == "ack"] == [
        {"type": "ack", "id": "s-1", "duplicate": False, "secret": False}
    ]
    [event] = user_events(system, session_id)
    assert event["text"] == "hello \ufffd open? now"
    assert echo["text"] == "hello \ufffd open? now"
