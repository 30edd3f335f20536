"""Input that used to give 500s: ids beyond 64 bits and static directories (issue 12, item 5).

Every record id in the console API is a positive 63-bit integer; any other integer
in a path, a query string or a body is answered 404, the same everywhere.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import StaffUser
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import ConsoleServer

OUT_OF_RANGE = [2**63, 2**64, 10**30, 0, -1]


def defect(*values: object) -> Any:
    """A parameter set that gave a 500 (or the wrong answer) before issue 12's fix."""
    return pytest.param(*values, marks=pytest.mark.defects)


def _id_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    operations = []
    for path, item in document["paths"].items():
        if "{id}" not in path:
            continue
        for method in item:
            operations.append((method.upper(), path))
    return sorted(operations)


@pytest.mark.defects
def test_every_path_id_out_of_range_is_404(api_clients: dict[str, ApiClient]) -> None:
    alex = api_clients["alex"]
    operations = _id_operations(alex.get("/api/openapi.json").json())
    answers = {}
    for method, path in operations:
        for value in OUT_OF_RANGE:
            body: dict[str, Any] | None = None if method == "GET" else {}
            reply = alex.call(method, path.replace("{id}", str(value)), body)
            answers[(method, path, value)] = reply.status

    assert len(operations) >= 20
    assert {key: status for key, status in answers.items() if status != 404} == {}


def test_the_largest_id_is_an_ordinary_unknown_record(api_clients: dict[str, ApiClient]) -> None:
    reply = api_clients["alex"].get(f"/api/readers/{2**63 - 1}")

    assert (reply.status, reply.json()["error"]) == (404, "not_found")


@pytest.mark.defects
def test_page_ids_out_of_range_are_404(api_clients: dict[str, ApiClient]) -> None:
    console = api_clients["alex"].server
    client = console.client()
    token = api_clients["alex"].token
    paths = (f"/conversations/{2**64}", f"/readers/{2**64}", f"/conversations/{2**63}/reader")
    statuses = [client.get(p, {"Authorization": f"Bearer {token}"}).status for p in paths]

    assert statuses == [404, 404, 404]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        defect("/api/readers/{reader}/merge", {"other_id": 2**64, "reason": "r"}),
        ("/api/readers/{reader}/merge", {"other_id": -1, "reason": "r"}),
        defect("/api/readers/{reader}/split", {"identity_ids": [2**64], "reason": "r"}),
        defect("/api/readers/{reader}/undo-merge", {"audit_id": 2**63, "reason": "r"}),
        ("/api/readers/{reader}/undo-merge", {"audit_id": 0, "reason": "r"}),
    ],
)
def test_body_ids_out_of_range_are_404(
    api_clients: dict[str, ApiClient], console_store: Any, path: str, body: dict[str, Any]
) -> None:
    from tests.handoff_console.test_api_readers import _anonymous

    with console_store.sessions.begin() as session:
        reader, _ = _anonymous(session, "webchat")

    reply = api_clients["sam"].post(path.format(reader=reader), body)

    assert (reply.status, reply.json()["error"]) == (404, "not_found")


@pytest.mark.defects
def test_transfer_to_a_staff_id_out_of_range_is_404(
    api_clients: dict[str, ApiClient], api_handoff: Any, console_store: Any
) -> None:
    sam = api_clients["sam"]
    conversation = api_handoff()
    assert sam.post(f"/api/conversations/{conversation}/claim").status == 200

    huge = sam.post(f"/api/conversations/{conversation}/transfer", {"to_user_id": 2**64})
    wrong_type = sam.post(f"/api/conversations/{conversation}/transfer", {"to_user_id": "2"})
    with console_store.sessions.begin() as session:
        maria = session.execute(
            select(StaffUser.id).where(StaffUser.username == "maria")
        ).scalar_one()
    fine = sam.post(f"/api/conversations/{conversation}/transfer", {"to_user_id": maria})

    assert (huge.status, huge.json()["error"]) == (404, "not_found")
    assert (wrong_type.status, wrong_type.json()["error"]) == (400, "bad_request")
    assert fine.status == 200, fine.json()


@pytest.mark.parametrize(
    ("value", "status"),
    [defect(str(2**64), 404), ("0", 404), defect("-5", 404), defect("\u00b2", 400), ("12a", 400)],
)
def test_query_ids_are_checked(api_clients: dict[str, ApiClient], value: str, status: int) -> None:
    from urllib.parse import quote

    created = api_clients["sam"].post(
        "/api/canned-responses", {"title": f"t{value!r}", "body": "Hello {reader_name}"}
    )
    assert created.status == 201, created.json()
    canned = created.json()["id"]

    reply = api_clients["sam"].get(
        f"/api/canned-responses/{canned}/render?conversation_id={quote(value)}"
    )

    assert reply.status == status


@pytest.mark.parametrize(
    "path",
    [
        defect("/static/"),
        defect("/static//"),
        defect("/static/."),
        "/static/..",
        "/static/%2e%2e/app.py",
        "/static/x/",
    ],
)
def test_static_directories_and_escapes_are_404(console: ConsoleServer, path: str) -> None:
    reply = console.client().get(path)

    assert reply.status == 404


def test_static_files_are_served(console: ConsoleServer) -> None:
    reply = console.client().get("/static/console.css")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/css; charset=utf-8"
    assert re.search(rb"[{}]", reply.body) is not None
