"""Fuzz the console API from its own served OpenAPI document: no request may get a 5xx.

The console runs as its own process on a migrated store with staff, a handoff and a
reader, and talks to a Rasa stand-in that accepts everything (so a 502 would be a
real failure, not a missing Rasa). `openapi_fuzz` derives requests from each
operation's parameters and body schema (boundary ids, huge and control-character
strings, wrong types, malformed JSON), a fixed seed picks at most ``PER_OPERATION``
per operation, and each is sent as the admin with a bearer token, as the admin with
a cookie session (and its CSRF token), or without credentials, in turn.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from handoff_console.studio.models.run_store import RunStore
from tests.handoff_console.conftest import STAFF, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.handoff_console.openapi_fuzz import FuzzRequest, requests_for
from tests.standins.rasa_api import start_rasa_standin
from tests.studio.editor_support import bot_copy, studio_env

SEED = 20261206
PER_OPERATION = 40
AUTH_MODES = ("bearer", "cookie", "bearer", "anonymous")


@pytest.fixture(scope="module")
def console(
    console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """This module's console, talking to a Rasa stand-in (overrides the conftest fixture)."""
    rasa, state = start_rasa_standin()
    folder = tmp_path_factory.mktemp("fuzz-console")
    # The admin's fuzzed saves in the studio's editor go to a copy of bot/, never bot/.
    studio = studio_env(bot_copy(folder))
    registry = folder / "models"  # its models and training runs, never var/models
    server = start_console(
        console_store.url,
        folder / "console.log",
        rasa_url=state.url,
        rasa_token="fuzz-token",
        extra_env={"RIC_TRUSTED_PROXIES": "", "RIC_MODEL_REGISTRY": str(registry), **studio},
    )
    yield server
    server.stop()
    rasa.stop()
    # A fuzzed POST /api/studio/training-runs starts a real training job, and such a job
    # outlives its console by design: end it (the recorded process only, and its group).
    for run in RunStore(registry / "runs").load_all():
        if run.status == "running" and run.pid is not None and run.job_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)


@dataclass
class Caller:
    """Sends generated requests as the admin (token or session) or anonymously."""

    server: ConsoleServer
    store: ConsoleStore
    token: str = ""
    cookie: str = ""
    csrf: str = ""
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def renew(self) -> None:
        """A fresh admin token and session (a fuzzed request may revoke or end them)."""
        self.token = api_token_for(self.store.sessions, "alex")
        client = self.server.client()
        reply = client.post_json(
            "/api/auth/login", {"username": "alex", "password": STAFF["alex"][2]}
        )
        assert reply.status == 200, reply.text
        self.cookie = client.cookies["ric_session"]
        self.csrf = reply.json()["csrf_token"]

    def send(self, request: FuzzRequest, mode: str) -> int:
        headers = {"Host": f"127.0.0.1:{self.server.port}", "Accept": "application/json"}
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        if mode == "bearer":
            headers["Authorization"] = f"Bearer {self.token}"
        elif mode == "cookie":
            headers["Cookie"] = f"ric_session={self.cookie}"
            headers["X-CSRF-Token"] = self.csrf
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            connection.request(request.method, request.path, body=request.body, headers=headers)
            reply = connection.getresponse()
            if not reply.getheader("Content-Type", "").startswith("text/event-stream"):
                reply.read()  # an event stream never ends; its status is enough
            status = reply.status
        finally:
            connection.close()
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if request.operation in {"DELETE /api/tokens/{id}", "POST /api/auth/logout"}:
            self.renew()
        return status


@pytest.fixture
def caller(
    console: ConsoleServer, console_store: ConsoleStore, api_handoff: Callable[..., int]
) -> Caller:
    """The admin's credentials, after making records for real ids to reach."""
    api_handoff("I need a librarian", "about my fines")
    api_handoff("hello", channel="telegram")
    made = Caller(console, console_store)
    made.renew()
    return made


@pytest.mark.defects
def test_no_generated_request_gets_a_server_error(caller: Caller, console: ConsoleServer) -> None:
    document = console.client().get("/api/openapi.json").json()
    rng = random.Random(SEED)
    failures: list[str] = []
    for n, request in enumerate(requests_for(document, rng, PER_OPERATION)):
        mode = AUTH_MODES[n % len(AUTH_MODES)]
        status = caller.send(request, mode)
        if status >= 500:
            failures.append(
                f"{status} {request.path[:120]} [{request.operation}; {mode}; {request.note}]"
            )

    print(f"\nAPI fuzz: {caller.sent} requests, statuses {sorted(caller.statuses.items())}")
    assert caller.sent >= 1000
    assert failures == [], "\n".join(failures)
    assert "Traceback" not in console.log()


def test_the_generator_is_deterministic_and_bounded(console: ConsoleServer) -> None:
    document = console.client().get("/api/openapi.json").json()
    operations = sum(len(item) for item in document["paths"].values())

    first = [(r.method, r.path, r.body) for r in requests_for(document, random.Random(SEED), 5)]
    again = [(r.method, r.path, r.body) for r in requests_for(document, random.Random(SEED), 5)]

    assert first == again
    assert operations <= len(first) <= 5 * operations
    assert any("9223372036854775808" in path for _, path, _ in first) or any(
        b"9223372036854775808" in (body or b"") for _, _, body in first
    )
