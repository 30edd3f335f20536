"""Every studio route, walked from the app's own routes: admins only (issue 16).

The routes under ``/studio`` and ``/api/studio`` are read from ``create_app()``, so the
walk covers every part of the studio as it lands. A librarian and a manager get 403 on
each: the console's HTML error page for pages, ``{"error": "forbidden"}`` under ``/api``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from handoff_console.app import create_app
from handoff_console.settings import ConsoleSettings
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.handoff_console.console_server import ConsoleServer
from tests.studio.editor_support import start_studio_console, studio_store

pytestmark = pytest.mark.studio

PARAMETER = re.compile(r"<[^>]+>")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def studio_routes() -> list[tuple[str, str]]:
    """``(method, path)`` of every studio route the console serves, parameters set to 1."""
    settings = ConsoleSettings(
        database_url="sqlite://",
        rasa_url="http://127.0.0.1:9",
        rasa_public_url="http://127.0.0.1:9",
        rasa_token="",
        actions_health_url="http://127.0.0.1:9/health",
    )
    app = create_app(settings, name="studio_route_walk")
    found = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if not (path == "/studio" or path.startswith(("/studio/", "/api/studio/"))):
            continue
        for method in route.methods - SKIPPED_METHODS:
            found.add((method, PARAMETER.sub("1", path)))
    return sorted(found)


ROUTES = studio_routes()


@pytest.fixture(scope="module")
def console_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStore]:
    """A migrated store with the test staff (librarians sam and maria, admin alex, manager
    morgan)."""
    yield from studio_store(tmp_path_factory.mktemp("studio-access-store"))


@pytest.fixture(scope="module")
def console(
    console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The console, its studio pointed at a copy of bot/ (nothing here may write to it)."""
    server, _bot = start_studio_console(console_store, tmp_path_factory.mktemp("studio-access"))
    yield server
    server.stop()


def test_the_walk_covers_the_editor() -> None:
    paths = {path for _, path in ROUTES}

    assert {"/studio", "/studio/intents", "/studio/responses", "/studio/changes"} <= paths
    assert {
        "/api/studio/training-data",
        "/api/studio/training-data/intent",
        "/api/studio/changes/discard",
    } <= paths


@pytest.mark.parametrize("username", ["sam", "morgan"])
def test_librarian_and_manager_get_403_on_every_studio_route(
    console: ConsoleServer, console_store: ConsoleStore, username: str
) -> None:
    client = ApiClient(console, api_token_for(console_store.sessions, username))
    refused_wrongly = []
    for method, path in ROUTES:
        is_api = path.startswith("/api/")
        accept = "application/json" if is_api else "text/html"
        headers = {"Accept": accept, "Authorization": f"Bearer {client.token}"}
        body = b"{}" if method in {"POST", "PUT", "PATCH", "DELETE"} else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        reply = console.client().request(method, path, body=body, headers=headers)
        kind = reply.headers.get("Content-Type", "")
        if is_api:
            ok = reply.status == 403 and reply.json()["error"] == "forbidden"
        else:
            page = kind.startswith("text/html") and "Admins only" in reply.text
            ok = reply.status == 403 and page
        if not ok:
            refused_wrongly.append((method, path, reply.status, kind))

    assert refused_wrongly == []


def test_admin_sees_the_studio_and_its_tabs(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    token = api_token_for(console_store.sessions, "alex")
    headers = {"Accept": "text/html", "Authorization": f"Bearer {token}"}

    reply = console.client().get("/studio", headers=headers)

    assert reply.status == 200
    tabs = re.findall(r'<nav class="studio-tabs".*?</nav>', reply.text, re.S)[0]
    labels = re.findall(r">([^<>]+)</a>", tabs)
    assert labels == [
        "Studio",
        "Training data",
        "Responses",
        "Changes",
        "Inbox",
        "FAQ candidates",
        "Intent health",
        "Models",
    ]
    assert '<a href="/studio">Studio</a>' in reply.text  # in the console's nav


def test_signed_out_caller_is_sent_to_sign_in(console: ConsoleServer) -> None:
    reply = console.client().get("/studio", headers={"Accept": "text/html"})

    assert reply.status == 302
    assert reply.headers["Location"] == "/login?next=%2Fstudio"


def test_librarian_has_no_studio_link(console: ConsoleServer, console_store: ConsoleStore) -> None:
    token = api_token_for(console_store.sessions, "sam")
    headers = {"Accept": "text/html", "Authorization": f"Bearer {token}"}

    reply = console.client().get("/queue", headers=headers)

    assert reply.status == 200
    assert 'href="/studio"' not in reply.text
