"""Login throttling per (account, client address) over HTTP to real console processes.

Two consoles share one store: ``console`` trusts no proxy (every client here is
127.0.0.1, whatever ``X-Forwarded-For`` says), ``proxied`` trusts 127.0.0.1 as its
reverse proxy and so reads the client from ``X-Forwarded-For``. The consoles run in
their own processes on the real clock, so instead of sleeping through a delay the
tests move the recorded failures back in time (`age_failures`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry, LoginAttempt
from handoff_console.login_throttle import FREE_FAILURES
from tests.handoff_console.conftest import STAFF, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer, Reply, start_console


@pytest.fixture(scope="module")
def console(
    console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """A console that trusts no proxy (overrides the conftest fixture to say so)."""
    server = start_console(
        console_store.url,
        tmp_path_factory.mktemp("throttle-console") / "console.log",
        extra_env={"RIC_TRUSTED_PROXIES": ""},
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxied(
    console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """A console behind a trusted reverse proxy on 127.0.0.1."""
    server = start_console(
        console_store.url,
        tmp_path_factory.mktemp("proxied-console") / "console.log",
        extra_env={"RIC_TRUSTED_PROXIES": "127.0.0.1, ::1"},
    )
    yield server
    server.stop()


def age_failures(store: ConsoleStore, username: str, seconds: float) -> None:
    """Move ``username``'s recorded attempts ``seconds`` into the past (a stand-in for waiting)."""
    with store.sessions.begin() as session:
        for attempt in session.execute(
            select(LoginAttempt).where(LoginAttempt.username == username)
        ).scalars():
            attempt.attempted_at = attempt.attempted_at - timedelta(seconds=seconds)


def log_in(
    server: ConsoleServer, username: str, password: str, forwarded_for: str | None = None
) -> Reply:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return server.client().post_json(
        "/api/auth/login", {"username": username, "password": password}, headers
    )


def fail_times(
    server: ConsoleServer,
    store: ConsoleStore,
    username: str,
    times: int,
    forwarded_for: Any = None,
) -> None:
    """``times`` wrong passwords, each checked (the previous failure's delay aged away)."""
    for n in range(times):
        address = forwarded_for(n) if callable(forwarded_for) else forwarded_for
        reply = log_in(server, username, f"wrong-{n}", address)
        assert reply.status == 401, reply.text
        age_failures(store, username, 3600)


@pytest.mark.defects
def test_wrong_passwords_from_one_client_do_not_lock_out_another(
    proxied: ConsoleServer, console_store: ConsoleStore
) -> None:
    # Issue 12 item 4: 5 failures locked the admin for 15 minutes for everybody.
    attacker, colleague = "198.51.100.23", "203.0.113.40"
    fail_times(proxied, console_store, "alex", 5, f"{attacker}, 127.0.0.1")
    age_failures(console_store, "alex", -3600)  # the last failure is now again

    throttled = log_in(proxied, "alex", STAFF["alex"][2], attacker)
    other = log_in(proxied, "alex", STAFF["alex"][2], colleague)

    assert (throttled.status, throttled.json()["error"]) == (429, "rate_limited")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 4  # 2 ** (5 - 3) s
    assert throttled.json()["retry_after"] == int(throttled.headers["Retry-After"])
    assert other.status == 200, other.text


@pytest.mark.defects
def test_the_right_password_works_once_the_delay_is_over(
    proxied: ConsoleServer, console_store: ConsoleStore
) -> None:
    client = "198.51.100.24"
    fail_times(proxied, console_store, "morgan", FREE_FAILURES, client)
    age_failures(console_store, "morgan", -3600)
    waiting = log_in(proxied, "morgan", STAFF["morgan"][2], client)
    age_failures(console_store, "morgan", 1)  # the 1-second delay has passed

    after = log_in(proxied, "morgan", STAFF["morgan"][2], client)

    assert waiting.status == 429
    assert after.status == 200, after.text


@pytest.mark.defects
def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    # A client that invents a new X-Forwarded-For for every guess is still one client.
    fail_times(console, console_store, "maria", FREE_FAILURES, lambda n: f"192.0.2.{n + 1}")
    age_failures(console_store, "maria", -3600)

    reply = log_in(console, "maria", STAFF["maria"][2], "192.0.2.200")

    assert reply.status == 429
    with console_store.sessions.begin() as session:
        addresses = set(
            session.execute(
                select(LoginAttempt.remote_addr).where(LoginAttempt.username == "maria")
            ).scalars()
        )
    assert addresses == {"127.0.0.1"}


def test_a_trusted_proxy_chain_yields_the_client_nearest_the_proxy(
    proxied: ConsoleServer, console_store: ConsoleStore
) -> None:
    # The client forged "10.9.9.9"; the proxy appended the address it really saw.
    reply = log_in(proxied, "sam", "wrong password", "10.9.9.9, 198.51.100.77")

    assert reply.status == 401
    with console_store.sessions.begin() as session:
        latest = session.execute(
            select(LoginAttempt.remote_addr)
            .where(LoginAttempt.username == "sam")
            .order_by(LoginAttempt.id.desc())
            .limit(1)
        ).scalar_one()
    assert latest == "198.51.100.77"


def test_the_login_form_says_how_long_to_wait(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    fail_times(console, console_store, "nobody-here", FREE_FAILURES + 1)
    age_failures(console_store, "nobody-here", -3600)

    form = console.client().post_form("/login", {"username": "nobody-here", "password": "x"})

    assert form.status == 429
    wait = int(form.headers["Retry-After"])
    assert f"Too many attempts; try again in {wait} second" in form.text


def test_an_admin_lifts_a_throttle_and_it_is_audited(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    fail_times(console, console_store, "sam", FREE_FAILURES + 2)
    age_failures(console_store, "sam", -3600)
    assert log_in(console, "sam", STAFF["sam"][2]).status == 429
    admin = {"Authorization": f"Bearer {api_token_for(console_store.sessions, 'alex')}"}
    librarian = {"Authorization": f"Bearer {api_token_for(console_store.sessions, 'maria')}"}

    listed = console.client().get("/api/login-throttles", admin).json()["items"]
    refused = console.client().post_json(
        "/api/login-throttles/clear", {"username": "sam"}, librarian
    )
    cleared = console.client().post_json(
        "/api/login-throttles/clear", {"username": "SAM", "address": "127.0.0.1"}, admin
    )
    bad = console.client().post_json("/api/login-throttles/clear", {"username": 7}, admin)
    after = log_in(console, "sam", STAFF["sam"][2])

    mine = [t for t in listed if t["username"] == "sam" and t["address"] == "127.0.0.1"]
    assert [t["failures"] for t in mine] == [FREE_FAILURES + 2]
    assert 1 <= mine[0]["retry_after"] <= 4
    assert refused.status == 403
    body = cleared.json()
    assert (cleared.status, body["username"], body["address"], body["failures_removed"]) == (
        200,
        "sam",
        "127.0.0.1",
        FREE_FAILURES + 2,
    )
    assert (bad.status, bad.json()["error"]) == (400, "bad_request")
    assert after.status == 200, after.text
    with console_store.sessions.begin() as session:
        entry = session.get(AuditEntry, body["audit_id"])
        assert entry is not None
        alex_id = session.execute(
            select(AuditEntry.staff_user_id).where(AuditEntry.id == body["audit_id"])
        ).scalar_one()
        assert (entry.action, entry.subject, entry.detail) == (
            "login_throttle.clear",
            "login:sam",
            {"address": "127.0.0.1", "failures_removed": FREE_FAILURES + 2, "via": "api"},
        )
    me = console.client().get("/api/me", admin).json()
    assert alex_id == me["id"]
