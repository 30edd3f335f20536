"""The conversation id on the lines of Rasa's HTTP API, the console and the worker (issue 18).

Each process's lines about one conversation carry its Rasa sender id in
``conversation_id``, so that one search finds them all:

- the real Rasa server app (``rasa.core.run.configure_app`` with the project's plug-ins),
  served on loopback in this process: its HTTP API lines and Sanic's access lines, and
  no id carried over from one request to the next on a keep-alive connection;
- the real console process (``python -m handoff_console``, ``RIC_LOG_FORMAT=json``): a
  request under ``/api/conversations/<row>/`` logs the row and its sender id;
- the worker's follow-up, handoff and outbound-retry jobs against a stand-in Rasa API
  on loopback, and the ingestion's quarantine line.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session, sessionmaker

import rasa_plugins
from crm_store import clock
from crm_store.ingestion import RasaEvent, ingest
from crm_store.ingestion.quarantine import quarantine_and_log
from crm_store.models import Handoff, HandoffStatus, OutboundMessage
from crm_store.repositories import open_handoff
from messaging.logs import configure_logging, conversation_scope, set_conversation
from messaging.outreach_store import schedule_follow_up
from ric_config import LogConfig
from tests.aio import run as run_async
from tests.crm_store._worker_data import conversation, reader, resolved_handoff, staff, travel
from tests.handoff_console.conftest import _store, api_token_for
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.standins.rasa_api import RasaStandIn, rasa_standin
from tests.system import free_port
from tests.trust.log_capture import Captured, capture_logs
from worker.jobs.follow_ups import send_due_follow_ups
from worker.jobs.handoff_jobs import retry_outbound, ticket_long_waits

__all__ = ["rasa_standin", "travel"]

pytestmark = pytest.mark.trust

RASA_TOKEN = "logs-test-token"  # a throw-away token of this test's own server
WEBHOOK_ID = "set-by-a-webhook"


@pytest.fixture
def json_lines() -> Iterator[Captured]:
    """Every record reaching the root logger, as the worker's JSON lines."""
    with capture_logs("worker") as captured:
        yield captured


# -- the format --------------------------------------------------------------------


def test_a_row_id_is_resolved_to_its_sender_id_once_and_only_when_a_line_is_logged() -> None:
    lookups: list[int] = []

    def lookup() -> str:
        lookups.append(42)
        return "widget-42"

    with capture_logs("console", "text") as captured:
        log = logging.getLogger("tests.trust")

        async def request(logs: int) -> None:
            set_conversation(None, row=42, lookup=lookup)
            for n in range(logs):
                log.info("line %d", n)

        run_async(request(0))
        assert lookups == []  # nothing logged: no query
        run_async(request(2))
        with conversation_scope("tg-7"):
            log.info("worker line")
        log.info("no conversation")
    assert lookups == [42]  # once for the request's two lines
    assert [line.split(" ", 3)[3] for line in captured.lines()] == [
        "tests.trust [conv=widget-42 row=42] line 0",
        "tests.trust [conv=widget-42 row=42] line 1",
        "tests.trust [conv=tg-7] worker line",
        "tests.trust no conversation",
    ]


# -- the Rasa server ------------------------------------------------------------------


@dataclass
class ServedRasa:
    """The Rasa server's Sanic app, serving on loopback from a thread of its own."""

    port: int
    captured: Captured

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def lines_of(self, path: str) -> list[dict[str, Any]]:
        """The access line of each request for ``path``, once the server has written it."""
        deadline = time.monotonic() + 10
        while True:
            found = [
                e
                for e in self.captured.entries()
                if e["logger"] == "sanic.access" and f":{self.port}{path} " in e["message"]
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def _serve(app: Sanic, port: int, ready: threading.Event, stop: threading.Event) -> None:
    async def main() -> None:
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=True
        )
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    asyncio.run(main())


@pytest.fixture(scope="module")
def served_rasa() -> Iterator[ServedRasa]:
    """Rasa's app as ``rasa run --enable-api`` makes it (no model), plus a test webhook.

    The webhook stands for a channel's: it marks its request as about one conversation
    (as the Telegram and Slack webhooks do) and logs a line.
    """
    import rasa.core.run as rasa_run

    rasa_plugins.install()  # what launcher.rasa_server does before Rasa makes its app

    async def webhook(request: Request) -> HTTPResponse:
        set_conversation(WEBHOOK_ID)
        logging.getLogger("tests.webhook").info("a webhook line")
        return response.json({})

    with capture_logs("rasa") as captured:
        app = rasa_run.configure_app(enable_api=True, auth_token=RASA_TOKEN, input_channels=[])
        app.add_route(webhook, "/webhooks/test/webhook", methods=["POST"])
        configure_logging("rasa", LogConfig.load({"RIC_LOG_FORMAT": "json"}))
        port, ready, stop = free_port(), threading.Event(), threading.Event()
        thread = threading.Thread(target=_serve, args=(app, port, ready, stop), daemon=True)
        thread.start()
        assert ready.wait(60), "the Rasa app did not start"
        yield ServedRasa(port, captured)
        stop.set()
        thread.join(30)


def _call(connection: http.client.HTTPConnection, method: str, path: str) -> int:
    body = b"{}" if method == "POST" else None
    connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
    reply = connection.getresponse()
    reply.read()
    return reply.status


def test_rasa_api_lines_carry_the_sender_id_of_the_path(served_rasa: ServedRasa) -> None:
    connection = served_rasa.connection()
    tracker = f"/conversations/email%3Aabc123/tracker?token={RASA_TOKEN}"
    trigger = f"/conversations/widget-9f2/trigger_intent?token={RASA_TOKEN}"
    try:
        assert _call(connection, "GET", tracker) == 409  # no model loaded: Rasa says so
        assert _call(connection, "POST", trigger) == 409
    finally:
        connection.close()
    (tracker_access,) = served_rasa.lines_of(tracker)
    (trigger_access,) = served_rasa.lines_of(trigger)
    # The sender id as the channels log it: decoded, not as it travels in the URL.
    assert tracker_access["conversation_id"] == "email:abc123"
    assert trigger_access["conversation_id"] == "widget-9f2"
    assert " 409 " in tracker_access["message"]
    rasa_lines = [
        (e["conversation_id"], e["message"][:15])
        for e in served_rasa.captured.entries()
        if e["logger"] == "rasa.server"
    ]
    assert ("email:abc123", "No agent loaded") in rasa_lines
    assert ("widget-9f2", "No agent loaded") in rasa_lines


def test_no_conversation_id_carries_over_to_the_next_request_on_a_connection(
    served_rasa: ServedRasa,
) -> None:
    connection = served_rasa.connection()  # one keep-alive connection for all three
    try:
        assert _call(connection, "POST", "/webhooks/test/webhook") == 200
        assert _call(connection, "GET", "/no-such-page") == 404
        assert _call(connection, "GET", "/") == 200
    finally:
        connection.close()
    (webhook,) = served_rasa.lines_of("/webhooks/test/webhook")
    (missing,) = served_rasa.lines_of("/no-such-page")
    hello = served_rasa.lines_of("/")
    assert webhook["conversation_id"] == WEBHOOK_ID
    webhook_lines = [e for e in served_rasa.captured.entries() if e["logger"] == "tests.webhook"]
    assert [e["conversation_id"] for e in webhook_lines] == [WEBHOOK_ID]
    assert missing["conversation_id"] is None
    assert [e["conversation_id"] for e in hello] == [None] * len(hello) != []


# -- the console ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def json_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConsoleServer, Any]]:
    """The real console with JSON logs; its Rasa URL points at a port nobody listens on."""
    directory = tmp_path_factory.mktemp("logs_console")
    store = _store(directory)
    server = start_console(
        store.url, directory / "console.log", extra_env={"RIC_LOG_FORMAT": "json"}
    )
    yield server, store
    server.stop()
    store.sessions.kw["bind"].dispose()


def _console_entries(server: ConsoleServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def test_console_lines_about_a_conversation_carry_its_sender_id_and_row(
    json_console: tuple[ConsoleServer, Any],
) -> None:
    server, store = json_console
    sender_id = f"widget-{uuid.uuid4().hex[:12]}"
    with store.sessions.begin() as session:
        ingest(
            session,
            [
                RasaEvent(
                    sender_id,
                    {
                        "event": "user",
                        "text": "a librarian please",
                        "timestamp": time.time() - 30,
                        "input_channel": "webchat",
                    },
                )
            ],
            "test",
        )
        handoff, _ = open_handoff(
            session, sender_id=sender_id, channel="webchat", reason="reader asked"
        )
        row = int(handoff.conversation_id)
    token = api_token_for(store.sessions, "sam")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client = server.client()
    claimed = client.request("POST", f"/api/conversations/{row}/claim", body=b"{}", headers=headers)
    assert claimed.status == 200, claimed.text
    # Rasa is unreachable: the console logs that it could not give the conversation back.
    resolved = client.request(
        "POST", f"/api/conversations/{row}/resolve", body=b"{}", headers=headers
    )
    assert resolved.status == 502, resolved.text

    deadline = time.monotonic() + 10
    about = [e for e in _console_entries(server) if sender_id in e["message"]]
    while not about and time.monotonic() < deadline:
        time.sleep(0.1)
        about = [e for e in _console_entries(server) if sender_id in e["message"]]
    assert [(e["conversation_id"], e.get("conversation_row")) for e in about] == [(sender_id, row)]
    others = [e for e in _console_entries(server) if e not in about]
    assert {e.get("conversation_row") for e in others} == {None}


# -- the worker ---------------------------------------------------------------------------


@dataclass
class WorkerJobs:
    """What a worker job's test runs against, and what it reads back."""

    sessions: sessionmaker[Session]
    """The reader store."""
    rasa: RasaStandIn
    """The stand-in Rasa API the jobs send to (``fail_next`` makes it answer 500)."""
    travel: clock.TravelClock
    """The store's clock, held still; ``set`` moves it."""
    lines: Captured
    """The JSON lines the jobs log."""


@pytest.fixture
def worker(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    travel: clock.TravelClock,
    json_lines: Captured,
) -> WorkerJobs:
    """A store, a stand-in Rasa API and a held clock for the worker's jobs, logging JSON."""
    return WorkerJobs(sessions, rasa_standin, travel, json_lines)


def test_worker_follow_up_lines_carry_the_conversation_they_are_about(
    worker: WorkerJobs,
) -> None:
    with worker.sessions.begin() as session:
        sam = staff(session, "sam")
        ada = reader(session, card="21234000123456")
        old = conversation(session, "widget-old", reader_id=ada.id)
        resolved_handoff(session, old, sam)
        conversation(session, "tg-ada", channel="telegram", reader_id=ada.id)
        lost = conversation(session, "rest-lost", channel="rest")
        resolved_handoff(session, lost, sam)
        for conv in (old, lost):
            schedule_follow_up(
                session,
                conversation_id=conv.id,
                staff_user_id=sam.id,
                due=date(2026, 3, 12),
                note=None,
            )
    worker.travel.set(datetime(2026, 3, 12, 9, 0, tzinfo=timezone.utc))
    worker.rasa.fail_next = 1  # Rasa answers 500 once: the follow-up is logged, kept
    assert send_due_follow_ups(worker.sessions) == []

    entries = worker.lines.entries()
    not_sent = [e for e in entries if "not sent yet" in e["message"]]
    undeliverable = [e for e in entries if "undeliverable" in e["message"]]
    # The follow-up goes to the reader's latest conversation (Telegram): that id.
    assert [e["conversation_id"] for e in not_sent] == ["tg-ada"]
    assert [e["conversation_id"] for e in undeliverable] == ["rest-lost"]
    assert len(send_due_follow_ups(worker.sessions)) == 1  # Rasa answers now
    summary = [e for e in worker.lines.entries() if e["message"].startswith("follow-ups:")]
    assert [(e["message"], e["conversation_id"]) for e in summary] == [("follow-ups: 1 sent", None)]


def test_worker_handoff_job_lines_carry_the_conversation_they_are_about(
    worker: WorkerJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIC_QUEUE_WAIT_LIMIT_SECONDS", "600")
    with worker.sessions.begin() as session:
        for waited, sender_id in ((20, "widget-waited-1"), (19, "widget-waited-2")):
            conv = conversation(session, sender_id)
            session.add(
                Handoff(
                    conversation_id=conv.id,
                    reason="request_human",
                    status=HandoffStatus.WAITING,
                    requested_at=clock.now() - timedelta(minutes=waited),
                )
            )
    worker.rasa.fail_next = 1  # the first fails (the job stops), the next run does both
    assert ticket_long_waits(worker.sessions) == 0
    assert ticket_long_waits(worker.sessions) == 2

    refused = [e for e in worker.lines.entries() if "could not ticket" in e["message"]]
    assert [e["conversation_id"] for e in refused] == ["widget-waited-1"]


def test_worker_outbound_retry_lines_carry_the_conversation_they_are_about(
    worker: WorkerJobs,
) -> None:
    with worker.sessions.begin() as session:
        sam = staff(session, "sam")
        conv = conversation(session, "widget-retry")
        session.add(
            OutboundMessage(
                conversation_id=conv.id,
                staff_user_id=sam.id,
                text="The book is on hold for you.",
                status="pending",
                created_at=clock.now(),
            )
        )
    worker.rasa.fail_next = 1
    assert retry_outbound(worker.sessions) == {"sent": 0, "pending": 1, "failed": 0}

    not_sent = [e for e in worker.lines.entries() if "not sent yet" in e["message"]]
    assert [e["conversation_id"] for e in not_sent] == ["widget-retry"]


def test_a_quarantined_event_is_logged_with_its_conversation_id(
    sessions: sessionmaker[Session], json_lines: Captured
) -> None:
    assert quarantine_and_log(
        sessions,
        source="catchup",
        position=7,
        sender_id="widget-bad-event",
        type_name="user",
        timestamp=time.time(),
        error=ValueError("not an event"),
    )
    (line,) = [e for e in json_lines.entries() if e["message"].startswith("quarantined")]
    assert line["conversation_id"] == "widget-bad-event"
