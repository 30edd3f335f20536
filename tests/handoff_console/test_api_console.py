"""The console's JSON API against a real console process and a real migrated SQLite store.

Rasa is not running here (the console's Rasa URL is a closed port), so these tests
cover everything that does not need Rasa, plus what happens when Rasa is down.
The live relay is tested against the whole system in ``test_api_live.py``.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid

import pytest
from sqlalchemy import select

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import (
    AuditEntry,
    Handoff,
    HandoffStatus,
    OutboundMessage,
    StaffUser,
    Ticket,
)
from crm_store.repositories import create_ticket
from tests.handoff_console.test_openapi import served_api_routes

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'

PROTECTED = [
    ("GET", "/api/queue"),
    ("GET", "/api/conversations/1"),
    ("POST", "/api/conversations/1/claim"),
    ("POST", "/api/conversations/1/messages"),
    ("POST", "/api/conversations/1/notes"),
    ("POST", "/api/conversations/1/transfer"),
    ("POST", "/api/conversations/1/resolve"),
    ("POST", "/api/conversations/1/reopen"),
    ("GET", "/api/tickets"),
    ("POST", "/api/tickets/1/reply"),
    ("PATCH", "/api/tickets/1"),
    ("GET", "/api/canned-responses"),
    ("POST", "/api/canned-responses"),
    ("GET", "/api/canned-responses/1/render"),
    ("POST", "/api/presence"),
    ("GET", "/api/staff"),
    ("GET", "/api/events"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_needs_staff(api_clients, method, path):
    reply = api_clients["anon"].call(method, path, {} if method != "GET" else None)
    assert reply.status == 401
    assert reply.json()["error"] == "not_authenticated"


def test_queue_lists_waiting_handoffs_oldest_first(api_clients, api_handoff):
    first = api_handoff("I need help with my thesis")
    second = api_handoff("hello?")
    items = api_clients["sam"].get("/api/queue").json()["items"]
    ids = [item["conversation_id"] for item in items]
    assert ids.index(first) < ids.index(second)
    item = next(i for i in items if i["conversation_id"] == first)
    assert item["status"] == "waiting"
    assert item["channel"] == "webchat"
    assert item["reason"] == "reader asked"
    assert item["librarian"] is None
    assert item["last_message"]["text"] == "I need help with my thesis"
    assert item["last_message"]["sender_kind"] == "reader"
    assert item["reader"] == {"id": item["reader"]["id"], "name": None, "verified": False}
    assert isinstance(item["waiting_seconds"], int)
    assert item["sender_id"].startswith("api-")


def test_conversation_view_returns_reader_text_verbatim(api_clients, api_handoff):
    conversation_id = api_handoff("first", XSS)
    reply = api_clients["sam"].get(f"/api/conversations/{conversation_id}")
    assert reply.status == 200
    body = reply.json()
    assert [m["text"] for m in body["messages"]] == ["first", XSS]
    assert [m["sender_kind"] for m in body["messages"]] == ["reader", "reader"]
    assert body["status"] == "handoff"
    assert body["handoff"]["status"] == "waiting"
    assert body["notes"] == []
    assert body["reader"]["verified"] is False
    assert body["reader"]["loans_summary"] is None
    assert body["reader"]["identities"] == [
        {"channel": "webchat", "external_id": body["sender_id"]}
    ]


def test_unknown_conversation_is_a_json_404(api_clients):
    reply = api_clients["sam"].get("/api/conversations/999999")
    assert reply.status == 404
    assert reply.json() == {"error": "not_found", "message": "No conversation has the id 999999."}


def test_claim_then_someone_else_gets_already_claimed(api_clients, api_handoff):
    conversation_id = api_handoff()
    reply = api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    assert reply.status == 200
    handoff = reply.json()["handoff"]
    assert handoff["status"] == "claimed"
    assert handoff["librarian"]["name"] == "Sam Reyes"
    again = api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    assert again.status == 200
    other = api_clients["maria"].post(f"/api/conversations/{conversation_id}/claim")
    assert other.status == 409
    assert other.json()["error"] == "already_claimed"
    assert other.json()["claimed_by"] == "Sam Reyes"
    message = api_clients["maria"].post(
        f"/api/conversations/{conversation_id}/messages", {"text": "hi"}
    )
    assert message.status == 409
    assert message.json()["error"] == "already_claimed"


def test_not_in_handoff(api_clients, console_store):
    sender_id = f"api-{uuid.uuid4().hex[:12]}"
    with console_store.sessions.begin() as session:
        ingest(
            session,
            [
                RasaEvent(
                    sender_id,
                    {
                        "event": "user",
                        "text": "hours?",
                        "timestamp": time.time(),
                        "input_channel": "webchat",
                    },
                )
            ],
            "test",
        )
    items = api_clients["sam"].get("/api/queue").json()["items"]
    assert sender_id not in [i["sender_id"] for i in items]
    with console_store.sessions() as session:
        from crm_store.repositories import conversation_of

        conversation = conversation_of(session, sender_id)
        assert conversation is not None
        conversation_id = conversation.id
    for path, data in [
        ("claim", {}),
        ("messages", {"text": "hello"}),
        ("resolve", {"note": ""}),
        ("transfer", {"to_user_id": None}),
    ]:
        reply = api_clients["sam"].post(f"/api/conversations/{conversation_id}/{path}", data)
        assert reply.status == 409, path
        assert reply.json()["error"] == "not_in_handoff", path


def test_capacity_is_respected(api_clients, api_handoff, console_store):
    with console_store.sessions.begin() as session:
        morgan = session.execute(
            select(StaffUser).where(StaffUser.username == "morgan")
        ).scalar_one()
        morgan.capacity = 1
    first, second = api_handoff(), api_handoff()
    assert api_clients["morgan"].post(f"/api/conversations/{first}/claim").status == 200
    reply = api_clients["morgan"].post(f"/api/conversations/{second}/claim")
    assert reply.status == 409
    assert reply.json()["error"] == "at_capacity"


def test_message_validation(api_clients, api_handoff):
    conversation_id = api_handoff()
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    path = f"/api/conversations/{conversation_id}/messages"
    for text in ["", "   ", None, 5]:
        reply = api_clients["sam"].post(path, {"text": text})
        assert reply.status == 400
        assert reply.json()["error"] == "empty_text"
    reply = api_clients["sam"].post(path, {"text": "x" * 4001})
    assert reply.status == 400
    assert reply.json()["error"] == "text_too_long"
    bad = api_clients["sam"].call("POST", path, None)
    assert bad.status == 400


def test_rasa_unreachable_keeps_the_message_pending(api_clients, api_handoff, console_store):
    conversation_id = api_handoff()
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    reply = api_clients["sam"].post(f"/api/conversations/{conversation_id}/messages", {"text": XSS})
    assert reply.status == 502
    body = reply.json()
    assert body["error"] == "rasa_unreachable"
    assert body["status"] == "pending"
    with console_store.sessions() as session:
        row = session.get(OutboundMessage, body["id"])
        assert row is not None
        assert (row.status, row.text, row.attempts) == ("pending", XSS, 1)
        assert row.last_error
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        assert handoff.first_response_at is not None
    view = api_clients["sam"].get(f"/api/conversations/{conversation_id}").json()
    assert [(u["id"], u["status"]) for u in view["undelivered"]] == [(body["id"], "pending")]


def test_resolve_and_reopen_need_rasa(api_clients, api_handoff, console_store):
    conversation_id = api_handoff()
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    reply = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/resolve", {"note": "done", "tags": ["x"]}
    )
    assert reply.status == 502
    assert reply.json()["error"] == "rasa_unreachable"
    with console_store.sessions() as session:
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        assert handoff.status == HandoffStatus.CLAIMED
    reopen = api_clients["sam"].post(f"/api/conversations/{conversation_id}/reopen")
    assert reopen.status == 409
    assert reopen.json()["error"] == "already_open"


def test_notes(api_clients, api_handoff):
    conversation_id = api_handoff()
    reply = api_clients["sam"].post(f"/api/conversations/{conversation_id}/notes", {"body": XSS})
    assert reply.status == 201
    note = reply.json()
    assert (note["author"], note["body"]) == ("Sam Reyes", XSS)
    view = api_clients["maria"].get(f"/api/conversations/{conversation_id}").json()
    assert [n["body"] for n in view["notes"]] == [XSS]
    empty = api_clients["sam"].post(f"/api/conversations/{conversation_id}/notes", {"body": ""})
    assert empty.status == 400


def test_transfer_to_a_colleague_and_back_to_the_queue(api_clients, api_handoff, console_store):
    conversation_id = api_handoff()
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    staff = api_clients["sam"].get("/api/staff").json()["items"]
    maria = next(s for s in staff if s["display_name"] == "Maria Lopez")
    reply = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/transfer",
        {"to_user_id": maria["id"], "department": None, "note": "needs ILL"},
    )
    assert reply.status == 200
    handoff = reply.json()["handoff"]
    assert (handoff["status"], handoff["librarian"]["name"], handoff["transfer_note"]) == (
        "claimed",
        "Maria Lopez",
        "needs ILL",
    )
    denied = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/transfer", {"to_user_id": None}
    )
    assert denied.status == 409
    back = api_clients["maria"].post(
        f"/api/conversations/{conversation_id}/transfer",
        {"to_user_id": None, "department": "Local history", "note": "for the archivist"},
    )
    handoff = back.json()["handoff"]
    assert (handoff["status"], handoff["librarian"], handoff["department"]) == (
        "waiting",
        None,
        "Local history",
    )
    with console_store.sessions() as session:
        actions = (
            session.execute(
                select(AuditEntry.action).where(
                    AuditEntry.subject == f"conversation:{conversation_id}"
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["handoff.claim", "handoff.transfer", "handoff.transfer"]


def test_presence_and_staff(api_clients):
    reply = api_clients["maria"].post("/api/presence", {"presence": "online"})
    assert reply.status == 200
    staff = api_clients["sam"].get("/api/staff").json()["items"]
    maria = next(s for s in staff if s["display_name"] == "Maria Lopez")
    assert maria["presence"] == "online"
    assert set(maria) >= {"id", "display_name", "presence", "load", "capacity"}
    assert api_clients["maria"].post("/api/presence", {"presence": "busy"}).status == 400


def test_tickets(api_clients, api_handoff, console_store):
    conversation_id = api_handoff()
    with console_store.sessions.begin() as session:
        from crm_store.models import Conversation

        sender_id = session.get(Conversation, conversation_id).sender_id
        email = create_ticket(
            session,
            sender_id=sender_id,
            channel="webchat",
            subject="Lost card",
            body=XSS,
            contact="reader@example.org",
        )
        chat = create_ticket(
            session,
            sender_id=sender_id,
            channel="webchat",
            subject="Ask later",
            body="b",
            contact=f"webchat:{sender_id}",
        )
        email_id, chat_id = email.id, chat.id
    items = api_clients["sam"].get("/api/tickets?status=new").json()["items"]
    mine = {i["id"]: i for i in items}
    assert mine[email_id]["body"] == XSS
    assert mine[email_id]["contact"] == "reader@example.org"
    assert mine[email_id]["conversation_id"] == conversation_id
    reply = api_clients["sam"].post(f"/api/tickets/{email_id}/reply", {"text": "Found it"})
    assert reply.status == 201
    assert reply.json()["delivery"] == "email_queued"
    assert reply.json()["status"] == "pending_email"
    # Rasa is down here: the chat reply is saved and left for the worker to retry.
    chat_reply = api_clients["sam"].post(f"/api/tickets/{chat_id}/reply", {"text": "Hello!"})
    assert chat_reply.status == 201
    assert (chat_reply.json()["delivery"], chat_reply.json()["status"]) == ("chat", "pending")
    pending = api_clients["sam"].get("/api/tickets?status=pending").json()["items"]
    assert {email_id, chat_id} <= {i["id"] for i in pending}
    closed = api_clients["sam"].patch(f"/api/tickets/{email_id}", {"status": "closed"})
    assert closed.status == 200
    assert closed.json()["status"] == "closed"
    assert api_clients["sam"].patch(f"/api/tickets/{email_id}", {"status": "x"}).status == 400
    assert api_clients["sam"].get("/api/tickets?status=nope").status == 400
    with console_store.sessions() as session:
        assert session.get(Ticket, email_id).status.value == "closed"
        rows = (
            session.execute(
                select(OutboundMessage.status).where(OutboundMessage.ticket_id == email_id)
            )
            .scalars()
            .all()
        )
        assert rows == ["pending_email"]


def test_canned_responses(api_clients, api_handoff, console_store):
    shortcut = f"hi{uuid.uuid4().hex[:6]}"
    reply = api_clients["sam"].post(
        "/api/canned-responses",
        {
            "title": "Greeting",
            "body": "Hello {reader_name}, I'm {librarian_name} at {library_name}. {unknown}",
            "shortcut": shortcut,
        },
    )
    assert reply.status == 201
    canned_id = reply.json()["id"]
    duplicate = api_clients["sam"].post(
        "/api/canned-responses", {"title": "x", "body": "y", "shortcut": shortcut}
    )
    assert duplicate.status == 409
    assert duplicate.json()["error"] == "duplicate_shortcut"
    found = api_clients["maria"].get(f"/api/canned-responses?q={shortcut}").json()["items"]
    assert [f["id"] for f in found] == [canned_id]
    conversation_id = api_handoff()
    rendered = (
        api_clients["maria"]
        .get(f"/api/canned-responses/{canned_id}/render?conversation_id={conversation_id}")
        .json()
    )
    assert rendered["text"] == (
        "Hello there, I'm Maria Lopez at Riverbend Public Library. {unknown}"
    )


def _served_api_routes() -> dict[str, set[str]]:
    """Every ``/api`` route the console app registers, with ``{id}`` path parameters."""
    from handoff_console.app import create_app

    return served_api_routes(create_app(name=f"routes_{uuid.uuid4().hex[:8]}"))


def test_openapi_describes_every_api_route(api_clients):
    reply = api_clients["anon"].get("/api/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.0")
    described = {path: set(ops) for path, ops in document["paths"].items()}
    # Exactly the routes the app serves: nothing undocumented, nothing documented but absent.
    assert described == _served_api_routes()
    # The endpoints the issue names, and the other features' entry points, are among them.
    required = {
        "/api/auth/login": {"post"},
        "/api/queue": {"get"},
        "/api/conversations/{id}": {"get"},
        "/api/conversations/{id}/claim": {"post"},
        "/api/conversations/{id}/messages": {"post"},
        "/api/conversations/{id}/resolve": {"post"},
        "/api/tickets": {"get"},
        "/api/events": {"get"},
        "/api/readers/{id}/merge": {"post"},
        "/api/notifications": {"get"},
        "/api/analytics/daily": {"get"},
    }
    assert all(required[path] <= described.get(path, set()) for path in required)


def test_cookie_session_needs_the_csrf_token(console, api_handoff):
    from tests.handoff_console.conftest import STAFF

    client = console.client()
    login = client.post_json("/api/auth/login", {"username": "sam", "password": STAFF["sam"][2]})
    assert login.status == 200
    csrf = login.json()["csrf_token"]
    conversation_id = api_handoff()
    path = f"/api/conversations/{conversation_id}/notes"
    refused = client.post_json(path, {"body": "no token"})
    assert refused.status == 403
    accepted = client.post_json(path, {"body": "with token"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status == 201
    assert client.get("/api/queue").status == 200


def _sse_events(port: int, token: str, until: float, want: int) -> list[tuple[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/api/events", headers={"Authorization": f"Bearer {token}"})
    reply = connection.getresponse()
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    events: list[tuple[str, object]] = []
    name, data = "", ""
    while time.monotonic() < until and len(events) < want:
        line = reply.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and name:
            events.append((name, json.loads(data)))
            name, data = "", ""
    connection.close()
    return events


def test_events_stream_queue_and_messages(api_clients, api_handoff, console_store, console):
    import threading

    conversation_id = api_handoff("before the stream")
    collected: list[tuple[str, object]] = []

    def listen() -> None:
        collected.extend(
            _sse_events(console.port, api_clients["sam"].token, time.monotonic() + 20, 3)
        )

    thread = threading.Thread(target=listen)
    thread.start()
    time.sleep(1.5)
    with console_store.sessions.begin() as session:
        from crm_store.models import Conversation

        sender_id = session.get(Conversation, conversation_id).sender_id
        ingest(
            session,
            [
                RasaEvent(
                    sender_id,
                    {
                        "event": "user",
                        "text": XSS,
                        "timestamp": time.time(),
                        "input_channel": "webchat",
                    },
                )
            ],
            "test",
        )
    thread.join()
    kinds = [name for name, _ in collected]
    assert kinds[0] == "queue"
    first_queue = collected[0][1]
    assert conversation_id in [i["conversation_id"] for i in first_queue["items"]]
    messages = [data for name, data in collected if name == "message"]
    assert messages == [
        {
            "conversation_id": conversation_id,
            "message": {**messages[0]["message"], "text": XSS, "sender_kind": "reader"},
        }
    ]
    # The new message changes the queue's last message, so the queue is sent again.
    assert kinds.count("queue") == 2
