"""Nothing lost, nothing duplicated: SIGKILL the Rasa server and the worker mid-traffic.

Live logging is slowed down (events linger 2 s in the in-process queue) so that killing
Rasa really does drop queued events; the worker's catch-up must restore every one of
them from the tracker store, exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import websockets
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from crm_store.ingestion import event_key
from crm_store.models import Message, RawEvent
from launcher.services import actions_service, rasa_service, worker_service
from launcher.settings import load_settings
from launcher.supervisor import ServiceSpec, Supervisor
from launcher.training import ensure_model
from tests.system import free_port

pytestmark = pytest.mark.rasa

CLIENTS = 4


class Traffic:
    """Readers chatting in a loop, reconnecting whenever the server goes away."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.stop = threading.Event()
        self.acked = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _reader(self) -> None:
        session_id = str(uuid.uuid4())
        phrases = ["hello", "thanks", "are you a bot?", "bye"]
        turn = 0
        while not self.stop.is_set():
            try:
                async with websockets.connect(self.ws_url, open_timeout=2) as ws:
                    await ws.send(
                        json.dumps({"type": "hello", "session_id": session_id, "since": 0})
                    )
                    while not self.stop.is_set():
                        frame_id = uuid.uuid4().hex
                        await ws.send(
                            json.dumps(
                                {"type": "message", "id": frame_id, "text": phrases[turn % 4]}
                            )
                        )
                        while True:
                            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                            if frame["type"] == "ack":
                                self.acked += 1
                            if frame["type"] == "typing" and frame["on"] is False:
                                break
                        turn += 1
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.5)

    async def _run(self) -> None:
        await asyncio.gather(*(self._reader() for _ in range(CLIENTS)))


def wait_for(predicate, timeout: float, message: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.5)


def sigkill(service: ServiceSpec) -> None:
    assert service.process is not None
    os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait()


def test_sigkill_rasa_and_worker_mid_traffic_loses_and_duplicates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RIC_RASA_PORT", "RIC_ACTIONS_PORT", "RIC_CONSOLE_PORT"):
        monkeypatch.setenv(name, str(free_port()))
    for name in ("RIC_DATABASE_URL", "RIC_TRACKER_DATABASE_URL", "RASA_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # The stricter mode for this test: a live in-process writer whose queue dies with Rasa.
    # (The default "tail" mode is the catch-up loop itself, which this test also exercises.)
    monkeypatch.setenv("RIC_STORE_LOGGING", "live")
    monkeypatch.setenv("RIC_DEMO_HISTORY", "0")  # the store must hold the tracker's events only
    monkeypatch.setenv("RIC_INGEST_LINGER_SECONDS", "2")
    settings = load_settings(tmp_path / "var")
    from launcher.cli import prepare

    prepare(settings)
    rasa, actions, worker = (
        rasa_service(settings, ensure_model()),
        actions_service(settings),
        worker_service(settings),
    )
    supervisor = Supervisor([actions, rasa, worker], max_restarts=0)
    supervisor.start_all()
    traffic = Traffic(f"ws://127.0.0.1:{settings.rasa_port}/webhooks/webchat/ws")
    try:
        supervisor.wait_ready(timeout=300, progress=lambda _: None)
        traffic.thread.start()
        wait_for(lambda: traffic.acked >= 12, 120, "no traffic got through")
        sigkill(rasa)
        sigkill(worker)
        acked_at_kill = traffic.acked
        supervisor.start(rasa)
        supervisor.wait_ready(timeout=300, progress=lambda _: None)
        wait_for(
            lambda: traffic.acked >= acked_at_kill + 12,
            120,
            "traffic did not resume after the restart",
        )
        supervisor.start(worker)
        sigkill(rasa)  # a second kill, with the worker back up
        supervisor.start(rasa)
        supervisor.wait_ready(timeout=300, progress=lambda _: None)
        wait_for(
            lambda: traffic.acked >= acked_at_kill + 24,
            120,
            "traffic did not resume after the second restart",
        )
    except BaseException:
        supervisor.stop()  # never leave the services running after a failed start
        raise
    finally:
        traffic.stop.set()
        if traffic.thread.ident is not None:  # started
            traffic.thread.join(30)
    try:
        tracker = create_engine(settings.tracker_database_url, future=True)
        store = create_engine(settings.database_url, future=True)

        def tracker_keys() -> tuple[set[str], set[str]]:
            with tracker.connect() as connection:
                rows = connection.execute(
                    text("SELECT sender_id, type_name, data FROM events")
                ).all()
            every = {event_key(r.sender_id, json.loads(r.data)) for r in rows}
            messages = {
                event_key(r.sender_id, json.loads(r.data))
                for r in rows
                if r.type_name in ("user", "bot")
            }
            return every, messages

        def store_keys() -> tuple[list[str], list[str]]:
            with Session(store) as session:
                raw = session.execute(select(RawEvent.event_key)).scalars().all()
                messages = session.execute(select(Message.event_key)).scalars().all()
            return list(raw), list(messages)

        # Rasa was stopped first, so the tracker store is final; the worker catches up every 5 s.
        supervisor.stop()
        supervisor.services = [worker]
        supervisor._stopping = False
        supervisor.start(worker)
        expected_events, expected_messages = tracker_keys()
        wait_for(
            lambda: set(store_keys()[0]) == expected_events,
            60,
            "catch-up did not restore every event",
        )
        raw, messages = store_keys()
        assert len(raw) == len(set(raw)) == len(expected_events)
        assert len(messages) == len(set(messages))
        assert set(messages) == expected_messages
        assert len(expected_messages) >= 2 * (
            acked_at_kill + 24
        )  # a reader message and a reply each
        with Session(store) as session:
            by_catch_up = session.execute(
                select(func.count(RawEvent.id)).where(RawEvent.source == "catchup")
            ).scalar_one()
        assert by_catch_up > 0, "the kill dropped nothing, so the test proved nothing"
    finally:
        supervisor.stop()
