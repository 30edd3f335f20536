"""The OpenAPI document is generated from the app's own routes (no server needed).

`test_api_console.test_openapi_describes_every_api_route` checks the served document
against a running console; these tests check the generator on an app built in the test.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sanic import Sanic

from handoff_console.app import create_app
from handoff_console.openapi import build_document
from handoff_console.schemas.conversations import Message, QueueItem


@pytest.fixture(scope="module")
def app() -> Sanic:
    return create_app(name="openapi_test")


@pytest.fixture(scope="module")
def document(app: Sanic) -> dict[str, Any]:
    return build_document(app)


def served_api_routes(app: Sanic) -> dict[str, set[str]]:
    """Every ``/api/`` route ``app`` registers, with ``{id}`` path parameters."""
    routes: dict[str, set[str]] = {}
    for route in app.router.routes:
        path = re.sub(r"<\w+(:[^>]*)?>", "{id}", "/" + route.path)
        if path.startswith("/api/"):
            routes.setdefault(path, set()).update(m.lower() for m in route.methods)
    return routes


def test_every_api_route_is_described_and_nothing_else(
    app: Sanic, document: dict[str, Any]
) -> None:
    described = {path: set(item) for path, item in document["paths"].items()}

    assert described == served_api_routes(app)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    text = repr(document)
    names = set(re.findall(r"#/components/schemas/(\w+)", text))

    assert names
    assert names - set(document["components"]["schemas"]) == set()


def test_signed_in_operations_answer_401_and_public_ones_need_no_credentials(
    document: dict[str, Any],
) -> None:
    public = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == []
    }
    missing_401 = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security") != [] and "401" not in operation["responses"]
    ]

    assert public == {"GET /api/health", "GET /api/openapi.json", "POST /api/auth/login"}
    assert missing_401 == []


def test_a_view_and_its_schema_come_from_one_model(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["QueueItem"]
    view = QueueItem.view(
        conversation_id=1,
        sender_id="s",
        channel="webchat",
        handoff_id=2,
        status="waiting",
        reason="asked",
        requested_at="2026-03-01T10:00:00+00:00",
        waiting_seconds=5,
        reader=None,
        last_message=None,
        librarian=None,
        department=None,
    )

    assert list(view) == list(schema["properties"])
    assert schema["properties"]["reader"]["nullable"] is True


def test_a_view_refuses_a_field_its_schema_does_not_have() -> None:
    fields = {
        "id": 1,
        "sender_kind": "reader",
        "text": "hi",
        "channel": "webchat",
        "sent_at": "2026-03-01T10:00:00+00:00",
        "librarian_name": None,
    }

    assert Message.view(**fields) == fields
    with pytest.raises(ValueError, match="extra fields not permitted"):
        Message.view(**fields, intent="greet")
