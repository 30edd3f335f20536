"""Tidy pages over HTTP to the real console: no developer notes, and real error pages.

An error is a page for browsers and JSON for the API and for JSON clients.

The 500s are provoked in a controlled way, without a route that exists only to fail:
the console runs on a store whose sessions table has been dropped, so authenticating
a session cookie raises inside the request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.handoff_console.conftest import STAFF, ConsoleStore
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = pytest.mark.workspace

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
NOT_FOUND_MESSAGE = (
    "There is no page at this address. The link may be mistyped, or the page may have moved."
)
INTERNAL_MESSAGE = (
    "Something went wrong on our side, and it has been logged. "
    "Try again in a moment; if it keeps happening, tell your system administrator."
)


def test_the_status_page_says_what_it_shows_and_no_developer_notes(
    console: ConsoleServer,
) -> None:
    reply = console.client().get("/", headers=BROWSER)
    assert reply.status == 200
    assert "<h1>Service status</h1>" in reply.text
    assert "Whether each part of the Reader Interaction Center is running" in reply.text
    for note in ("arrives with", "handoff-console work", "TODO"):
        assert note not in reply.text


def test_a_missing_page_is_a_console_page_with_a_way_home(console: ConsoleServer) -> None:
    reply = console.client().get("/no-such-page/<b>x</b>", headers=BROWSER)
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert "<title>Page not found · Reader Interaction Center</title>" in reply.text
    assert '<link rel="stylesheet" href="/static/console.css">' in reply.text
    assert '<h1 id="error-title">Page not found</h1>' in reply.text
    assert f'<p class="error-message">{NOT_FOUND_MESSAGE}</p>' in reply.text
    assert '<a href="/">Go to the status page</a>' in reply.text
    assert '<a href="/login">Sign in</a>' in reply.text
    assert "<b>x</b>" not in reply.text


def _signed_in(console: ConsoleServer, username: str = "sam") -> Any:
    """A client with the session cookie of one of the ``STAFF`` accounts."""
    client = console.client()
    credentials = {"username": username, "password": STAFF[username][2]}
    login = client.post_json("/api/auth/login", credentials)
    assert login.status == 200, login.text
    return client


def test_a_signed_in_librarian_gets_the_404_page_with_the_queue_link(
    console: ConsoleServer,
) -> None:
    client = _signed_in(console)
    reply = client.get("/conversations/12/nothing-here", headers=BROWSER)
    assert reply.status == 404
    assert "Signed in as Sam Reyes (librarian)" in reply.text
    assert '<a href="/queue">Go to the queue</a>' in reply.text


def test_the_supervisor_page_refuses_a_librarian_with_a_page_not_raw_json(
    console: ConsoleServer,
) -> None:
    client = _signed_in(console)
    page = client.get("/supervisor", headers=BROWSER)
    assert (page.status, page.headers["Content-Type"]) == (403, "text/html; charset=utf-8")
    assert "<title>Managers and admins only · Reader Interaction Center</title>" in page.text
    assert '<p class="error-status">Error 403</p>' in page.text
    assert '<h1 id="error-title">Managers and admins only</h1>' in page.text
    assert "Signed in as Sam Reyes (librarian)" in page.text
    assert '<a href="/queue">Go to the queue</a>' in page.text
    data = client.get("/supervisor", headers=JSON)
    assert (data.status, data.json()["error"]) == (403, "forbidden")
    api = client.get("/api/supervisor", headers=BROWSER)
    assert (api.status, api.headers["Content-Type"]) == (403, "application/json")
    manager = _signed_in(console, "morgan")
    assert manager.get("/supervisor", headers=BROWSER).status == 200


def test_a_missing_page_is_json_for_a_client_that_asks_for_json(console: ConsoleServer) -> None:
    reply = console.client().get("/no-such-page", headers=JSON)
    assert (reply.status, reply.headers["Content-Type"]) == (404, "application/json")
    assert reply.json() == {"error": "not_found", "message": NOT_FOUND_MESSAGE}


def test_a_missing_api_route_is_json_even_for_a_browser(console: ConsoleServer) -> None:
    reply = console.client().get("/api/no-such-endpoint", headers=BROWSER)
    assert (reply.status, reply.headers["Content-Type"]) == (404, "application/json")
    assert reply.json() == {"error": "not_found", "message": "No such endpoint."}


def test_a_wrong_method_is_a_405_page_that_names_the_allowed_ones(console: ConsoleServer) -> None:
    page = console.client().request("POST", "/healthz", headers=BROWSER)
    assert (page.status, page.headers["Allow"]) == (405, "GET")
    assert '<h1 id="error-title">Not allowed here</h1>' in page.text
    data = console.client().request("POST", "/healthz", headers=JSON)
    assert (data.status, data.headers["Allow"]) == (405, "GET")
    assert data.json() == {
        "error": "method_not_allowed",
        "message": "This page cannot be used that way.",
    }


@pytest.fixture
def broken_console(staff_store: ConsoleStore, tmp_path: Path) -> Iterator[ConsoleServer]:
    """A console whose store has lost its sessions table: a session cookie makes a 500."""
    with sqlite3.connect(staff_store.url.removeprefix("sqlite:///")) as db:
        db.execute("DROP TABLE console_sessions")
    server = start_console(staff_store.url, tmp_path / "console.log")
    yield server
    server.stop()


def test_a_server_error_is_a_page_that_names_no_internals(broken_console: ConsoleServer) -> None:
    client = broken_console.client()
    client.cookies["ric_session"] = "a-session-token"
    reply = client.get("/queue", headers=BROWSER)
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<h1 id="error-title">Something went wrong</h1>' in reply.text
    assert f'<p class="error-message">{INTERNAL_MESSAGE}</p>' in reply.text
    assert '<a href="/">Go to the status page</a>' in reply.text
    for internal in ("console_sessions", "OperationalError", "Traceback", "SELECT"):
        assert internal not in reply.text
    log = broken_console.log()
    assert "unhandled error in GET /queue" in log
    assert "no such table: console_sessions" in log


def test_a_server_error_is_json_for_the_api_and_for_json_clients(
    broken_console: ConsoleServer,
) -> None:
    client = broken_console.client()
    client.cookies["ric_session"] = "a-session-token"
    page_as_json = client.get("/queue", headers=JSON)
    assert (page_as_json.status, page_as_json.headers["Content-Type"]) == (500, "application/json")
    assert page_as_json.json() == {"error": "internal_error", "message": INTERNAL_MESSAGE}
    api = client.get("/api/queue", headers=BROWSER)
    assert (api.status, api.headers["Content-Type"]) == (500, "application/json")
    assert api.json() == {"error": "internal_error", "message": "Something went wrong on our side."}
