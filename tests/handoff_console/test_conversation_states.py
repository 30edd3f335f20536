"""Conversation states that cannot contradict each other (issue 15, item 2).

Against a real console process and a real SQLite store; Rasa is not running, so a
librarian's reply is saved as pending (502) after its claim is committed, which is
what these tests look at. The resolve that needs Rasa is covered at the store level
here and end to end in ``tests/browser/test_workspace_states.py``.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import AuditEntry, Conversation, OutboundMessage, StaffUser
from crm_store.repositories import open_handoff
from handoff_console.services import conversation_views, conversations

pytestmark = pytest.mark.workspace


def _view(client: Any, conversation_id: int) -> dict[str, Any]:
    reply = client.get(f"/api/conversations/{conversation_id}")
    assert reply.status == 200
    return reply.json()


def _lines(view: dict[str, Any]) -> list[str]:
    return [line["text"] for line in view["system_lines"]]


def _outbound(console_store: Any, conversation_id: int) -> list[tuple[int, str]]:
    with console_store.sessions() as session:
        rows = session.execute(
            select(OutboundMessage.staff_user_id, OutboundMessage.text)
            .where(OutboundMessage.conversation_id == conversation_id)
            .order_by(OutboundMessage.id)
        ).all()
    return [(int(staff_id), text) for staff_id, text in rows]


def _staff_id(console_store: Any, username: str) -> int:
    with console_store.sessions() as session:
        return int(
            session.execute(select(StaffUser.id).where(StaffUser.username == username)).scalar_one()
        )


def test_a_waiting_conversation_reads_waiting_not_with_a_librarian(api_clients, api_handoff):
    conversation_id = api_handoff("I need help with a thesis")
    view = _view(api_clients["sam"], conversation_id)
    assert (view["status"], view["state"], view["state_label"]) == ("handoff", "waiting", "Waiting")
    assert view["handoff"]["librarian"] is None
    assert _lines(view) == ["Waiting for a librarian"]


def test_a_reply_to_a_waiting_conversation_claims_it_first(api_clients, api_handoff, console_store):
    conversation_id = api_handoff("Can someone help?")
    reply = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/messages", {"text": "Hello, I'm Sam."}
    )
    assert reply.status == 502  # Rasa is down: saved as pending, the claim stays
    assert reply.json()["status"] == "pending"
    view = _view(api_clients["maria"], conversation_id)
    assert (view["state"], view["state_label"]) == ("claimed", "With Sam Reyes")
    assert view["handoff"]["librarian"]["name"] == "Sam Reyes"
    assert view["handoff"]["first_response_at"] is not None
    assert _lines(view) == ["Waiting for a librarian", "Sam Reyes joined"]
    queue = api_clients["maria"].get("/api/queue").json()["items"]
    [item] = [i for i in queue if i["conversation_id"] == conversation_id]
    assert (item["status"], item["librarian"]["name"]) == ("claimed", "Sam Reyes")


def test_a_reply_to_a_colleagues_conversation_is_refused_and_not_saved(
    api_clients, api_handoff, console_store
):
    conversation_id = api_handoff("Where is my hold?")
    assert api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim").status == 200
    refused = api_clients["maria"].post(
        f"/api/conversations/{conversation_id}/messages", {"text": "Maria here"}
    )
    assert refused.status == 409
    assert refused.json() == {
        "error": "already_claimed",
        "message": "Sam Reyes is handling this conversation.",
        "claimed_by": "Sam Reyes",
    }
    assert _outbound(console_store, conversation_id) == []
    assert _view(api_clients["maria"], conversation_id)["state_label"] == "With Sam Reyes"


def test_take_over_moves_the_conversation_and_is_audited(api_clients, api_handoff, console_store):
    conversation_id = api_handoff("Renewals?")
    sam, maria = _staff_id(console_store, "sam"), _staff_id(console_store, "maria")
    assert api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim").status == 200
    path = f"/api/conversations/{conversation_id}/claim"
    assert api_clients["maria"].post(path, {"take_over": "yes"}).status == 400
    taken = api_clients["maria"].post(path, {"take_over": True})
    assert taken.status == 200
    assert taken.json()["handoff"]["librarian"]["name"] == "Maria Lopez"
    sent = api_clients["maria"].post(
        f"/api/conversations/{conversation_id}/messages", {"text": "Maria here"}
    )
    assert sent.status == 502
    refused = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/messages", {"text": "Sam again"}
    )
    assert refused.status == 409
    assert _outbound(console_store, conversation_id) == [(maria, "Maria here")]
    with console_store.sessions() as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.staff_user_id, AuditEntry.detail)
            .where(AuditEntry.subject == f"conversation:{conversation_id}")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("handoff.claim", sam, None),
        ("handoff.take_over", maria, {"from_user_id": sam}),
    ]
    view = _view(api_clients["sam"], conversation_id)
    assert _lines(view) == [
        "Waiting for a librarian",
        "Sam Reyes joined",
        "Maria Lopez took over from Sam Reyes",
    ]


def test_two_librarians_replying_at_once_exactly_one_holds_and_sends(
    api_clients, api_handoff, console_store
):
    ids = {"sam": _staff_id(console_store, "sam"), "maria": _staff_id(console_store, "maria")}
    for _ in range(4):
        conversation_id = api_handoff("Anyone there?")

        def reply(name: str, conversation_id: int = conversation_id) -> tuple[str, int]:
            answer = api_clients[name].post(
                f"/api/conversations/{conversation_id}/messages", {"text": f"{name} here"}
            )
            return name, answer.status

        with ThreadPoolExecutor(2) as pool:
            results = dict(pool.map(reply, ["sam", "maria"]))
        assert sorted(results.values()) == [409, 502], results
        [winner] = [name for name, status in results.items() if status == 502]
        assert _outbound(console_store, conversation_id) == [(ids[winner], f"{winner} here")]
        view = _view(api_clients["sam"], conversation_id)
        holder = {"sam": "Sam Reyes", "maria": "Maria Lopez"}[winner]
        assert view["handoff"]["librarian"]["name"] == holder


def test_unanswered_flag_and_resolve_that_requires_an_answer(
    api_clients, api_handoff, console_store
):
    conversation_id = api_handoff("Is the archive open on Sunday?")
    assert _view(api_clients["sam"], conversation_id)["unanswered"] is True
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/messages", {"text": "Yes."})
    assert _view(api_clients["sam"], conversation_id)["unanswered"] is False
    resolve = f"/api/conversations/{conversation_id}/resolve"
    # answered: the check passes and the resolve goes on to Rasa (down here: 502)
    assert api_clients["sam"].post(resolve, {"require_answered": True}).status == 502
    with console_store.sessions() as session:
        sender_id = session.get(Conversation, conversation_id).sender_id
    later = {
        "event": "user",
        "text": "And on Monday?",
        "timestamp": time.time() + 5,
        "input_channel": "webchat",
    }
    with console_store.sessions.begin() as session:
        ingest(session, [RasaEvent(sender_id, later)], "test")
    assert _view(api_clients["sam"], conversation_id)["unanswered"] is True
    refused = api_clients["sam"].post(resolve, {"require_answered": True})
    assert refused.status == 409
    assert refused.json()["error"] == "unanswered"
    assert api_clients["sam"].post(resolve, {"require_answered": 1}).status == 400
    # existing callers send no flag: resolving is not refused (Rasa is down: 502)
    assert api_clients["sam"].post(resolve, {"note": "done"}).status == 502


def test_transfer_lines(api_clients, api_handoff, console_store):
    conversation_id = api_handoff("Local history question")
    maria = _staff_id(console_store, "maria")
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim")
    api_clients["sam"].post(f"/api/conversations/{conversation_id}/transfer", {"to_user_id": maria})
    api_clients["maria"].post(
        f"/api/conversations/{conversation_id}/transfer",
        {"to_user_id": None, "department": "Local history"},
    )
    view = _view(api_clients["sam"], conversation_id)
    assert _lines(view) == [
        "Waiting for a librarian",
        "Sam Reyes joined",
        "Sam Reyes transferred the conversation to Maria Lopez",
        "Maria Lopez returned the conversation to the Local history queue",
    ]
    assert (view["state"], view["state_label"]) == ("waiting", "Waiting")


def test_resolved_state_and_line_from_the_store(staff_store):
    sender_id = f"states-{uuid.uuid4().hex[:8]}"
    event = {"event": "user", "text": "help", "timestamp": time.time(), "input_channel": "webchat"}
    with staff_store.sessions.begin() as session:
        ingest(session, [RasaEvent(sender_id, event)], "test")
        handoff, _ = open_handoff(session, sender_id=sender_id, channel="webchat", reason="asked")
        conversation_id = int(handoff.conversation_id)
        sam = session.execute(select(StaffUser.id).where(StaffUser.username == "sam")).scalar_one()
        conversations.claim(session, conversation_id, sam)
        conversations.resolve(session, conversation_id, sam, "librarian", note=None, tags=None)
    with staff_store.sessions() as session:
        view = conversation_views.conversation_view(session, conversation_id, [])
    assert (view["state"], view["state_label"], view["unanswered"]) == (
        "resolved",
        "Resolved",
        False,
    )
    assert _lines(view) == ["Waiting for a librarian", "Sam Reyes joined", "Resolved by Sam Reyes"]
