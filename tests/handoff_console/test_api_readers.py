"""The readers API (search, profile, merge, split, audit, reach) against a real console.

The console runs as its own process (``python -m handoff_console``) on a migrated store.
Rasa is replaced by a small stand-in HTTP server on loopback that records exactly what
the console sends to ``/conversations/{id}/tracker/events``, so the tests can check the
relay request and make Rasa fail on demand.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.db import make_engine, make_session_factory
from crm_store.identities import mark_unreachable
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import AuditEntry, OutboundMessage, Reader
from crm_store.repositories import conversation_of, create_ticket, link_verified_reader
from handoff_console.accounts import create_staff
from tests.handoff_console.conftest import (
    STAFF,
    ApiClient,
    ConsoleStore,
    api_start_console,
    api_token_for,
)
from tests.handoff_console.console_server import ConsoleServer

XSS = '<img src=x onerror="alert(1)"> Ada & <script>alert("x")</script>'
RASA_TOKEN = "stand-in-token"


class RasaStandIn:
    """Rasa's HTTP API, just enough for the relay: records requests, answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                url = urlsplit(self.path)
                with stand_in.lock:
                    stand_in.requests.append(
                        {
                            "path": url.path,
                            "query": parse_qs(url.query),
                            "body": json.loads(self.rfile.read(length) or b"null"),
                        }
                    )
                    status = stand_in.status
                body = b"{}" if status < 400 else b'{"message": "stand-in failure"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # quiet test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.requests = self.requests, []
            return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def rasa_stand_in() -> Iterator[RasaStandIn]:
    stand_in = RasaStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def console(
    console_store: ConsoleStore,
    rasa_stand_in: RasaStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsoleServer]:
    """This module's console talks to the Rasa stand-in (overrides the conftest fixture)."""
    server = api_start_console(
        console_store.url,
        tmp_path_factory.mktemp("readers-console") / "console.log",
        rasa_stand_in.url,
        RASA_TOKEN,
    )
    yield server
    server.stop()


@pytest.fixture
def stand_in(rasa_stand_in: RasaStandIn) -> Iterator[RasaStandIn]:
    rasa_stand_in.status = 200
    rasa_stand_in.take()
    yield rasa_stand_in
    rasa_stand_in.status = 200


def _card() -> str:
    return "2123" + "".join(random.choice("0123456789") for _ in range(10))


def _talk(session: Session, channel: str, when: float | None = None) -> str:
    """A reader message ingested as the worker does; returns the new sender id."""
    sender_id = f"{channel}-{uuid.uuid4().hex[:10]}"
    ingest(
        session,
        [
            RasaEvent(
                sender_id,
                {
                    "event": "user",
                    "text": "hello",
                    "timestamp": when or time.time(),
                    "input_channel": channel,
                    "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
                },
            )
        ],
        "test",
    )
    return sender_id


def _reader_of(session: Session, sender_id: str) -> int:
    conversation = conversation_of(session, sender_id)
    assert conversation is not None and conversation.reader_id is not None
    return int(conversation.reader_id)


def _verified(session: Session, channel: str, card: str, name: str, when: float | None = None):
    sender_id = _talk(session, channel, when)
    reader = link_verified_reader(
        session, channel=channel, external_id=sender_id, card_number=card, name=name, email=None
    )
    return int(reader.id), sender_id


def _anonymous(session: Session, channel: str, when: float | None = None) -> tuple[int, str]:
    sender_id = _talk(session, channel, when)
    session.flush()
    return _reader_of(session, sender_id), sender_id


READER_ENDPOINTS = [
    ("GET", "/api/readers"),
    ("GET", "/api/readers/1"),
    ("POST", "/api/readers/1/merge"),
    ("POST", "/api/readers/1/split"),
    ("POST", "/api/readers/1/messages"),
    ("GET", "/api/readers/1/audit"),
    ("POST", "/api/readers/1/undo-merge"),
]


@pytest.mark.parametrize(("method", "path"), READER_ENDPOINTS)
def test_every_reader_endpoint_needs_staff(api_clients, method, path):
    reply = api_clients["anon"].call(method, path, {} if method == "POST" else None)
    assert reply.status == 401
    assert reply.json()["error"] == "not_authenticated"


def test_managers_may_read_but_not_merge_split_or_message(api_clients, console_store):
    with console_store.sessions.begin() as session:
        reader, _ = _anonymous(session, "webchat")
    morgan = api_clients["morgan"]
    assert morgan.get(f"/api/readers/{reader}").status == 200
    assert morgan.get(f"/api/readers/{reader}/audit").status == 200
    for action, body in (
        ("merge", {"other_id": 1, "reason": "x"}),
        ("split", {"identity_ids": [1], "reason": "x"}),
        ("messages", {"text": "hello"}),
    ):
        reply = morgan.post(f"/api/readers/{reader}/{action}", body)
        assert (reply.status, reply.json()["error"]) == (403, "forbidden")


def test_search_by_name_card_digits_and_address_returns_text_verbatim(api_clients, console_store):
    card = _card()
    with console_store.sessions.begin() as session:
        reader, sender_id = _verified(session, "telegram", card, XSS)
    sam = api_clients["sam"]
    by_name = sam.get("/api/readers?q=" + "%3Cscript%3E").json()["items"]
    by_card = sam.get(f"/api/readers?q={card[-6:]}").json()["items"]
    by_address = sam.get(f"/api/readers?q={sender_id}").json()["items"]
    assert [r["id"] for r in by_name] == [reader]
    assert [r["id"] for r in by_card] == [reader]
    assert [r["id"] for r in by_address] == [reader]
    assert by_name[0]["name"] == XSS
    assert by_name[0]["card"] == "*" * 10 + card[-4:]
    assert by_name[0]["channels"] == ["telegram"]
    too_long = sam.get("/api/readers?q=" + "x" * 201)
    assert (too_long.status, too_long.json()["error"]) == (400, "query_too_long")


def test_profile_masks_the_card_and_lists_history(api_clients, console_store):
    card = _card()
    with console_store.sessions.begin() as session:
        reader, sender_id = _verified(session, "webchat", card, "Ada Okafor")
        create_ticket(
            session,
            sender_id=sender_id,
            channel="webchat",
            subject=XSS,
            body="b",
            contact=None,
        )
    reply = api_clients["sam"].get(f"/api/readers/{reader}")
    assert reply.status == 200
    body = reply.json()
    assert card not in reply.text
    assert body["card"] == "*" * 10 + card[-4:]
    assert (body["name"], body["verified"]) == ("Ada Okafor", True)
    assert [(i["channel"], i["external_id"], i["reachable"]) for i in body["identities"]] == [
        ("webchat", sender_id, True)
    ]
    assert [c["sender_id"] for c in body["conversations"]] == [sender_id]
    assert [t["subject"] for t in body["tickets"]] == [XSS]
    assert body["reachable_conversation"]["sender_id"] == sender_id
    missing = api_clients["sam"].get("/api/readers/987654")
    assert (missing.status, missing.json()) == (
        404,
        {"error": "not_found", "message": "No reader has the id 987654."},
    )


def test_merge_moves_identities_and_is_in_the_audit_history(api_clients, console_store):
    card = _card()
    with console_store.sessions.begin() as session:
        keep, web = _verified(session, "webchat", card, "Ada Okafor")
        other, slack = _anonymous(session, "slack")
    sam = api_clients["sam"]
    reply = sam.post(f"/api/readers/{keep}/merge", {"other_id": other, "reason": "same person"})
    assert reply.status == 200
    body = reply.json()
    assert sorted((i["channel"], i["external_id"]) for i in body["reader"]["identities"]) == [
        ("slack", slack),
        ("webchat", web),
    ]
    assert sam.get(f"/api/readers/{other}").status == 404
    audit = sam.get(f"/api/readers/{keep}/audit").json()["items"]
    merge = audit[0]
    assert merge["id"] == body["audit_id"]
    assert merge["action"] == "reader.merge"
    assert merge["staff"]["name"] == "Sam Reyes"
    assert merge["summary"] == (
        f"Reader #{other} merged into reader #{keep}; moved 1 identities, 1 conversations. "
        "Reason: same person"
    )
    assert merge["detail"]["merge_id"] == other
    assert [a["action"] for a in audit[1:]] == ["reader.link"]


def test_undo_merge_brings_the_other_reader_back(api_clients, console_store):
    with console_store.sessions.begin() as session:
        keep, web = _verified(session, "webchat", _card(), "Ada Okafor")
        other, slack = _anonymous(session, "slack")
    sam = api_clients["sam"]
    merged = sam.post(f"/api/readers/{keep}/merge", {"other_id": other, "reason": "same"})
    audit_id = merged.json()["audit_id"]
    reply = sam.post(
        f"/api/readers/{keep}/undo-merge", {"audit_id": audit_id, "reason": "two people"}
    )
    assert reply.status == 200
    body = reply.json()
    assert body["restored_reader"]["id"] == other
    assert [i["external_id"] for i in body["restored_reader"]["identities"]] == [slack]
    assert [i["external_id"] for i in body["reader"]["identities"]] == [web]
    history = sam.get(f"/api/readers/{other}/audit").json()["items"]
    assert (history[0]["id"], history[0]["action"]) == (body["audit_id"], "reader.unmerge")
    again = sam.post(f"/api/readers/{keep}/undo-merge", {"audit_id": audit_id, "reason": "x"})
    assert (again.status, again.json()["error"]) == (400, "invalid_request")
    elsewhere = sam.post(f"/api/readers/{other}/undo-merge", {"audit_id": audit_id, "reason": "x"})
    assert (elsewhere.status, elsewhere.json()["error"]) == (404, "not_found")
    morgan = api_clients["morgan"].post(
        f"/api/readers/{keep}/undo-merge", {"audit_id": audit_id, "reason": "x"}
    )
    assert morgan.status == 403


def test_merge_refuses_different_cards_with_409_until_forced(api_clients, console_store):
    ada_card, ben_card = _card(), _card()
    with console_store.sessions.begin() as session:
        ada, _ = _verified(session, "webchat", ada_card, "Ada Okafor")
        ben, _ = _verified(session, "email", ben_card, "Ben Mensah")
    alex = api_clients["alex"]
    refused = alex.post(f"/api/readers/{ada}/merge", {"other_id": ben, "reason": "typo"})
    assert refused.status == 409
    assert refused.json()["error"] == "card_conflict"
    assert "*" * 10 + ben_card[-4:] in refused.json()["message"]
    assert ben_card not in refused.text
    forced = alex.post(
        f"/api/readers/{ada}/merge", {"other_id": ben, "reason": "one person", "force": True}
    )
    assert forced.status == 200
    audit = alex.get(f"/api/readers/{ada}/audit").json()["items"][0]
    assert audit["detail"]["forced"] is True
    assert audit["detail"]["merged_reader"]["card_number"] == "*" * 10 + ben_card[-4:]
    assert ben_card not in json.dumps(audit)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"other_id": "2", "reason": "r"}, 400, "bad_request"),
        ({"other_id": True, "reason": "r"}, 400, "bad_request"),
        ({"other_id": 2}, 400, "missing_reason"),
        ({"other_id": 2, "reason": "r", "force": "yes"}, 400, "bad_request"),
        ({"other_id": "self", "reason": "r"}, 400, "invalid_request"),
        ({"other_id": 987654, "reason": "r"}, 404, "not_found"),
    ],
)
def test_merge_rejects_bad_input(api_clients, console_store, body, status, error):
    with console_store.sessions.begin() as session:
        reader, _ = _anonymous(session, "webchat")
    if body.get("other_id") == "self":
        body = {**body, "other_id": reader}
    reply = api_clients["sam"].post(f"/api/readers/{reader}/merge", body)
    assert (reply.status, reply.json()["error"]) == (status, error)


def test_split_creates_a_new_reader_visible_in_both_histories(api_clients, console_store):
    card = _card()
    with console_store.sessions.begin() as session:
        reader, web = _verified(session, "webchat", card, "Ada Okafor")
        _, tg = _verified(session, "telegram", card, "Ada Okafor")
    sam = api_clients["sam"]
    identities = sam.get(f"/api/readers/{reader}").json()["identities"]
    telegram_id = next(i["id"] for i in identities if i["channel"] == "telegram")
    reply = sam.post(
        f"/api/readers/{reader}/split",
        {"identity_ids": [telegram_id], "reason": "her brother's phone"},
    )
    assert reply.status == 201
    body = reply.json()
    new = body["new_reader"]
    assert [(i["channel"], i["external_id"]) for i in new["identities"]] == [("telegram", tg)]
    assert [c["sender_id"] for c in new["conversations"]] == [tg]
    assert (new["name"], new["card"]) == (None, None)
    assert [(i["channel"], i["external_id"]) for i in body["reader"]["identities"]] == [
        ("webchat", web)
    ]
    for subject in (reader, new["id"]):
        latest = sam.get(f"/api/readers/{subject}/audit").json()["items"][0]
        assert (latest["id"], latest["action"]) == (body["audit_id"], "reader.split")
    everything = sam.post(
        f"/api/readers/{reader}/split",
        {"identity_ids": [i["id"] for i in body["reader"]["identities"]], "reason": "x"},
    )
    assert (everything.status, everything.json()["error"]) == (400, "invalid_request")
    bad = sam.post(f"/api/readers/{reader}/split", {"identity_ids": "all", "reason": "x"})
    assert (bad.status, bad.json()["error"]) == (400, "bad_request")


def test_message_goes_to_the_latest_reachable_channel_through_rasa(
    api_clients, console_store, stand_in
):
    card = _card()
    with console_store.sessions.begin() as session:
        reader, web = _verified(session, "webchat", card, "Ada Okafor", time.time() - 600)
        _, tg = _verified(session, "telegram", card, "Ada Okafor", time.time() - 60)
    sam = api_clients["sam"]
    reply = sam.post(f"/api/readers/{reader}/messages", {"text": XSS})
    assert reply.status == 201
    assert reply.json()["channel"] == "telegram"
    with console_store.sessions.begin() as session:
        sam_id = session.execute(
            select(OutboundMessage.staff_user_id).where(OutboundMessage.id == reply.json()["id"])
        ).scalar_one()
    assert stand_in.take() == [
        {
            "path": f"/conversations/{tg}/tracker/events",
            "query": {
                "execute_side_effects": ["true"],
                "output_channel": ["telegram"],
                "token": [RASA_TOKEN],
            },
            "body": [
                {
                    "event": "bot",
                    "text": XSS,
                    "metadata": {"librarian_id": sam_id, "librarian_name": "Sam Reyes"},
                }
            ],
        }
    ]
    with console_store.sessions.begin() as session:
        row = session.get(OutboundMessage, reply.json()["id"])
        assert row is not None
        assert (row.status, row.text, conversation_of(session, tg).id) == (  # type: ignore[union-attr]
            "sent",
            XSS,
            row.conversation_id,
        )
        # The reader blocked the bot on Telegram: the next message goes to the widget.
        assert mark_unreachable(session, "telegram", tg) is True
    again = sam.post(f"/api/readers/{reader}/messages", {"text": "Your hold is ready."})
    assert (again.status, again.json()["channel"]) == (201, "webchat")
    sent = stand_in.take()
    assert [(r["path"], r["query"]["output_channel"]) for r in sent] == [
        (f"/conversations/{web}/tracker/events", ["webchat"])
    ]


def test_message_to_an_unreachable_reader_is_409_and_recorded(api_clients, console_store, stand_in):
    with console_store.sessions.begin() as session:
        reader, sender_id = _anonymous(session, "telegram")
        mark_unreachable(session, "telegram", sender_id)
        before = session.execute(select(OutboundMessage.id)).scalars().all()
    sam = api_clients["sam"]
    reply = sam.post(f"/api/readers/{reader}/messages", {"text": "Are you there?"})
    assert reply.status == 409
    body = reply.json()
    assert body["error"] == "unreachable"
    assert body["message"] == (
        "This reader cannot be reached: every channel this reader used is marked unreachable "
        "or cannot take messages the library starts. The message was recorded, not sent."
    )
    assert stand_in.take() == []
    with console_store.sessions.begin() as session:
        assert session.execute(select(OutboundMessage.id)).scalars().all() == before
        entry = session.get(AuditEntry, body["audit_id"])
        assert entry is not None
        assert (entry.action, entry.subject, entry.detail["text"]) == (
            "reader.message_undeliverable",
            f"reader:{reader}",
            "Are you there?",
        )
    audit = sam.get(f"/api/readers/{reader}/audit").json()["items"][0]
    assert audit["action"] == "reader.message_undeliverable"
    assert audit["summary"].startswith("Message not delivered: every channel")

    with console_store.sessions.begin() as session:
        lonely = Reader(display_name="No channels")
        session.add(lonely)
        session.flush()
        lonely_id = lonely.id
    none = sam.post(f"/api/readers/{lonely_id}/messages", {"text": "hello"})
    assert none.status == 409
    assert "this reader has no conversation on any channel" in none.json()["message"]
    empty = sam.post(f"/api/readers/{lonely_id}/messages", {"text": "  "})
    assert (empty.status, empty.json()["error"]) == (400, "empty_text")


def test_message_when_rasa_fails_stays_pending_for_the_worker(api_clients, console_store, stand_in):
    with console_store.sessions.begin() as session:
        reader, sender_id = _anonymous(session, "webchat")
    stand_in.status = 500
    reply = api_clients["sam"].post(f"/api/readers/{reader}/messages", {"text": "Hello"})
    assert reply.status == 502
    body = reply.json()
    assert (body["error"], body["status"], body["channel"]) == (
        "rasa_unreachable",
        "pending",
        "webchat",
    )
    assert [r["path"] for r in stand_in.take()] == [f"/conversations/{sender_id}/tracker/events"]
    with console_store.sessions.begin() as session:
        row = session.get(OutboundMessage, body["id"])
        assert row is not None
        assert (row.status, row.attempts) == ("pending", 1)


def test_cookie_sessions_need_the_csrf_token_to_merge(console, console_store):
    with console_store.sessions.begin() as session:
        keep, _ = _anonymous(session, "webchat")
        other, _ = _anonymous(session, "webchat")
    client = console.client()
    login = client.post_json(
        "/api/auth/login", {"username": "maria", "password": STAFF["maria"][2]}
    )
    csrf = login.json()["csrf_token"]
    body = {"other_id": other, "reason": "same"}
    refused = client.post_json(f"/api/readers/{keep}/merge", body)
    assert refused.status == 403
    accepted = client.post_json(f"/api/readers/{keep}/merge", body, {"X-CSRF-Token": csrf})
    assert accepted.status == 200


def test_pages_and_the_conversation_link(console, console_store):
    with console_store.sessions.begin() as session:
        reader, sender_id = _anonymous(session, "webchat")
        conversation_id = conversation_of(session, sender_id).id  # type: ignore[union-attr]
    client = console.client()
    assert client.get("/readers").status == 302  # not signed in: to the login page
    client.post_json("/api/auth/login", {"username": "sam", "password": STAFF["sam"][2]})
    page = client.get(f"/readers/{reader}")
    assert page.status == 200
    assert f'data-reader-id="{reader}"' in page.text
    assert 'id="merge-search-form"' in page.text
    assert client.get("/readers").status == 200
    link = client.get(f"/conversations/{conversation_id}")
    assert f'href="/conversations/{conversation_id}/reader"' in link.text
    hop = client.get(f"/conversations/{conversation_id}/reader")
    assert (hop.status, hop.headers["Location"]) == (302, f"/readers/{reader}")
    manager = console.client()
    manager.post_json("/api/auth/login", {"username": "morgan", "password": STAFF["morgan"][2]})
    read_only = manager.get(f"/readers/{reader}")
    assert read_only.status == 200
    assert 'data-can-edit="false"' in read_only.text
    assert 'id="merge-search-form"' not in read_only.text
    assert 'id="split-submit"' not in read_only.text


def test_openapi_describes_the_reader_endpoints(api_clients):
    paths = api_clients["anon"].get("/api/openapi.json").json()["paths"]
    expected = {}
    for method, path in READER_ENDPOINTS:
        template = path.replace("/1", "/{id}")
        expected.setdefault(template, set()).add(method.lower())
    assert {p: set(paths[p]) for p in expected} == expected


def test_one_card_on_two_channels_shows_both_identities(store_url: str, tmp_path: Path):
    """Integration on SQLite and PostgreSQL: verification on the widget and Telegram."""
    sessions = make_session_factory(make_engine(store_url))
    card = _card()
    with sessions.begin() as session:
        user = create_staff(
            session,
            username="robin",
            password="robin-correct-horse",
            role="librarian",
            display_name="Robin",
        )
        del user
        web = _talk(session, "webchat")
        tg = _talk(session, "telegram")
    with sessions.begin() as session:
        first = link_verified_reader(
            session, channel="webchat", external_id=web, card_number=card, name="Ada", email=None
        ).id
    with sessions.begin() as session:
        second = link_verified_reader(
            session, channel="telegram", external_id=tg, card_number=card, name="Ada", email=None
        ).id
    assert first == second
    server = api_start_console(store_url, tmp_path / "console.log", "http://127.0.0.1:9", "")
    try:
        client = ApiClient(server, api_token_for(sessions, "robin"))
        profile = client.get(f"/api/readers/{first}").json()
        found = client.get(f"/api/readers?q={card[-4:]}").json()["items"]
    finally:
        server.stop()
        sessions.kw["bind"].dispose()
    assert sorted((i["channel"], i["external_id"]) for i in profile["identities"]) == [
        ("telegram", tg),
        ("webchat", web),
    ]
    assert sorted(c["sender_id"] for c in profile["conversations"]) == sorted([web, tg])
    assert [r["id"] for r in found] == [first]
    assert found[0]["channels"] == ["telegram", "webchat"]


@pytest.mark.defects
def test_control_characters_are_stripped_before_the_reader_sees_them(
    api_clients, console_store, stand_in
):
    # Issue 12 item 5: a C1 control character ("\u0088") reached the reader as sent.
    with console_store.sessions.begin() as session:
        reader, _ = _verified(session, "webchat", _card(), "Ada Okafor")
    sam = api_clients["sam"]

    reply = sam.post(
        f"/api/readers/{reader}/messages", {"text": "Your hold\u0088 is\x00 ready.\r\nSee you\x1b!"}
    )
    only_controls = sam.post(f"/api/readers/{reader}/messages", {"text": "\u0088\x07"})

    assert reply.status == 201
    assert [r["body"][0]["text"] for r in stand_in.take()] == ["Your hold is ready.\nSee you!"]
    with console_store.sessions.begin() as session:
        row = session.get(OutboundMessage, reply.json()["id"])
        assert row is not None and row.text == "Your hold is ready.\nSee you!"
    assert (only_controls.status, only_controls.json()["error"]) == (400, "empty_text")
