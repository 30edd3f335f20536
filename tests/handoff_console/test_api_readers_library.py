"""The reader panel's API: the library account, renew and hold on a reader's behalf.

A real console process (``python -m handoff_console``) on a migrated SQLite store, with
the demo library system in its own state file next to it; the outage is the demo
system's switch file (``ils_down`` beside that file), checked on every call.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import AuditEntry
from crm_store.repositories import conversation_of, link_verified_reader
from tests.handoff_console.conftest import STAFF, ApiClient, ConsoleStore, _store, api_token_for
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = pytest.mark.workspace

ADA_CARD = "21234000123456"  # the demo library's Ada Okafor (library/ils/README.md)
PRIYA_CARD = "21234000567890"  # a new reader: no loans, holds or charges
DAY = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}$")


@dataclass
class Scene:
    store: ConsoleStore
    console: ConsoleServer
    clients: dict[str, ApiClient]
    ils_dir: Path
    ada: int
    priya: int
    anonymous: int


def _reader(store: ConsoleStore, card: str | None, name: str) -> int:
    sender = f"web-{uuid.uuid4().hex[:10]}"
    with store.sessions.begin() as session:
        ingest(
            session,
            [
                RasaEvent(
                    sender,
                    {
                        "event": "user",
                        "text": "hello",
                        "timestamp": time.time(),
                        "input_channel": "webchat",
                        "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
                    },
                )
            ],
            "test",
        )
        session.flush()
        if card is None:
            return int(conversation_of(session, sender).reader_id)
        reader = link_verified_reader(
            session, channel="webchat", external_id=sender, card_number=card, name=name, email=None
        )
        return int(reader.id)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    store = _store(tmp_path_factory.mktemp("library-store"))
    ils_dir = tmp_path_factory.mktemp("demo-ils")
    ada = _reader(store, ADA_CARD, "Ada Okafor")
    priya = _reader(store, PRIYA_CARD, "Priya Raman")
    anonymous = _reader(store, None, "")
    console = start_console(
        store.url,
        ils_dir / "console.log",
        extra_env={"RIC_DEMO_ILS_DB": str(ils_dir / "demo_ils.db"), "RIC_LIBRARY_SYSTEM": "demo"},
    )
    clients = {name: ApiClient(console, api_token_for(store.sessions, name)) for name in STAFF}
    try:
        yield Scene(store, console, clients, ils_dir, ada, priya, anonymous)
    finally:
        console.stop()
        store.sessions.kw["bind"].dispose()


def test_account_lists_loans_with_titles_and_due_dates_holds_and_charges(scene: Scene) -> None:
    reply = scene.clients["sam"].get(f"/api/readers/{scene.ada}/library")
    assert reply.status == 200, reply.text
    account = reply.json()
    assert account["card"] == "**********3456"
    titles = {loan["title"] for loan in account["loans"]}
    assert "The Hobbit" in titles
    assert len(account["loans"]) == 4
    for loan in account["loans"]:
        due = dt.date.fromisoformat(loan["due_date"])
        assert loan["due_label"] == f"{due:%a} {due.day} {due:%b %Y}"
        assert DAY.match(loan["due_label"]), loan["due_label"]
    overdue = [loan for loan in account["loans"] if loan["overdue"]]
    assert [loan["due_relative"] for loan in overdue] == ["overdue by 5 days"]
    upcoming = sorted(loan["due_relative"] for loan in account["loans"] if not loan["overdue"])
    assert upcoming == ["due in 2 days", "due in 3 days", "due in 6 days"]
    statuses = {hold["title"]: hold["status_label"] for hold in account["holds"]}
    assert statuses["Animal Farm"] == "Ready to collect"
    ready = next(h for h in account["holds"] if h["title"] == "Animal Farm")
    assert ready["pickup_branch_name"] == "Central Library"
    assert account["charges"]["total"] == "0.75"
    assert account["charges"]["currency"] == "GBP"


def test_renew_on_behalf_gives_the_new_due_date_and_is_audited(scene: Scene) -> None:
    sam = scene.clients["sam"]
    loans = sam.get(f"/api/readers/{scene.ada}/library").json()["loans"]
    loan = next(
        loan
        for loan in loans
        if not loan["overdue"]
        and not loan["blocked_by_hold"]
        and loan["renewals_used"] < loan["renewals_allowed"]
    )
    reply = sam.post(f"/api/readers/{scene.ada}/renewals", {"item_id": loan["item_id"]})
    assert reply.status == 200, reply.text
    renewed = reply.json()
    old_due = dt.date.fromisoformat(loan["due_date"])
    new_due = dt.date.fromisoformat(renewed["new_due_date"])
    assert new_due == old_due + dt.timedelta(days=21)  # a book's loan period
    assert renewed["due_label"] == f"{new_due:%a} {new_due.day} {new_due:%b %Y}"
    assert renewed["title"] == loan["title"]
    with scene.store.sessions.begin() as session:
        entry = session.get(AuditEntry, renewed["audit_id"])
        assert entry is not None
        assert (entry.action, entry.subject) == ("reader.renew_on_behalf", f"reader:{scene.ada}")
        assert entry.detail["item_id"] == loan["item_id"]
        assert entry.detail["new_due_date"] == new_due.isoformat()
    after = sam.get(f"/api/readers/{scene.ada}/library").json()["loans"]
    assert {x["item_id"]: x["due_date"] for x in after}[loan["item_id"]] == new_due.isoformat()
    history = sam.get(f"/api/readers/{scene.ada}/audit").json()["items"]
    assert history[0]["summary"] == (
        f"Renewed “{loan['title']}” for the reader; now due {renewed['due_label']}."
    )


def test_a_refused_renewal_carries_the_library_systems_reason(scene: Scene) -> None:
    sam = scene.clients["sam"]
    loans = sam.get(f"/api/readers/{scene.ada}/library").json()["loans"]
    hobbit = next(loan for loan in loans if loan["blocked_by_hold"])
    reply = sam.post(f"/api/readers/{scene.ada}/renewals", {"item_id": hobbit["item_id"]})
    assert reply.status == 409
    assert reply.json()["error"] == "renewal_refused"
    assert reply.json()["reason"] == "on_hold_for_another_reader"
    with scene.store.sessions.begin() as session:
        actions = session.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "reader.renew_on_behalf")
        ).scalars()
        assert hobbit["item_id"] not in {detail["item_id"] for detail in actions}


def test_renewing_an_unknown_loan_or_bad_input(scene: Scene) -> None:
    sam = scene.clients["sam"]
    unknown = sam.post(f"/api/readers/{scene.ada}/renewals", {"item_id": "99999999999999"})
    assert unknown.status == 404
    assert unknown.json()["error"] == "loan_not_found"
    for body in ({}, {"item_id": ""}, {"item_id": 12}, {"item_id": "x" * 65}):
        reply = sam.post(f"/api/readers/{scene.ada}/renewals", body)
        assert (reply.status, reply.json()["error"]) == (400, "bad_item_id"), body


def test_unknown_reader_no_card_and_roles(scene: Scene) -> None:
    sam = scene.clients["sam"]
    assert sam.get("/api/readers/987654321/library").status == 404
    assert sam.post("/api/readers/987654321/renewals", {"item_id": "1"}).status == 404
    no_card = sam.get(f"/api/readers/{scene.anonymous}/library")
    assert (no_card.status, no_card.json()["error"]) == (409, "no_card_on_file")
    manager = scene.clients["morgan"]
    assert manager.get(f"/api/readers/{scene.ada}/library").status == 200
    assert manager.post(f"/api/readers/{scene.ada}/renewals", {"item_id": "1"}).status == 403


def test_place_a_hold_on_behalf_and_a_refusal(scene: Scene) -> None:
    sam = scene.clients["sam"]
    hits = sam.get("/api/catalogue?q=hobbit").json()["items"]
    hobbit = next(hit for hit in hits if hit["title"] == "The Hobbit" and hit["format"] == "book")
    body = {"record_id": hobbit["record_id"], "format": "book", "pickup_branch": "northside"}
    reply = sam.post(f"/api/readers/{scene.priya}/holds", body)
    assert reply.status == 201, reply.text
    placed = reply.json()
    assert placed["hold"]["title"] == "The Hobbit"
    assert placed["hold"]["pickup_branch_name"] == "Northside Branch"
    with scene.store.sessions.begin() as session:
        entry = session.get(AuditEntry, placed["audit_id"])
        assert entry is not None and entry.action == "reader.hold_on_behalf"
        assert entry.subject == f"reader:{scene.priya}"
    again = sam.post(f"/api/readers/{scene.priya}/holds", body)
    assert again.status == 409
    assert (again.json()["error"], again.json()["reason"]) == ("hold_refused", "already_on_hold")
    missing = sam.post(f"/api/readers/{scene.priya}/holds", {"record_id": "b0001"})
    assert missing.status == 400


def test_library_system_down_is_a_503(scene: Scene) -> None:
    switch = scene.ils_dir / "ils_down"
    switch.touch()
    try:
        sam = scene.clients["sam"]
        reply = sam.get(f"/api/readers/{scene.ada}/library")
        assert (reply.status, reply.json()["error"]) == (503, "library_system_unavailable")
        renew = sam.post(f"/api/readers/{scene.ada}/renewals", {"item_id": "31234000010011"})
        assert renew.status == 503
        assert sam.get("/api/catalogue?q=dune").status == 503
    finally:
        switch.unlink()
    assert scene.clients["sam"].get(f"/api/readers/{scene.ada}/library").status == 200
