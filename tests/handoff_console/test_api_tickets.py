"""Tickets over HTTP: assignee, reply history, a readable subject, status changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry, Conversation, StaffUser, Ticket, TicketStatus
from crm_store.repositories import create_ticket

pytestmark = pytest.mark.workspace

QUESTION = (
    "Can I renew the atlas my son borrowed? It is due tomorrow and we need it for a school project"
)


def _ticket(console_store, conversation_id, *, body=QUESTION, contact="reader@example.org"):
    with console_store.sessions.begin() as session:
        sender_id = session.get(Conversation, conversation_id).sender_id
        ticket = create_ticket(
            session,
            sender_id=sender_id,
            channel="webchat",
            subject="Chat not answered: reader asked",
            body=body,
            contact=contact,
        )
        return ticket.id


def _staff_id(console_store, username):
    with console_store.sessions() as session:
        return session.execute(
            select(StaffUser.id).where(StaffUser.username == username)
        ).scalar_one()


def test_assign_unassign_and_filter(api_clients, api_handoff, console_store):
    ticket_id = _ticket(console_store, api_handoff())
    sam = _staff_id(console_store, "sam")
    url = f"/api/tickets/{ticket_id}"
    assigned = api_clients["maria"].patch(url, {"assignee_id": sam})
    assert assigned.status == 200, assigned.json()
    assert assigned.json()["assignee"] == {"id": sam, "name": "Sam Reyes"}
    mine = api_clients["sam"].get("/api/tickets?assignee=me").json()["items"]
    assert ticket_id in {t["id"] for t in mine}
    assert all(t["assignee"]["id"] == sam for t in mine)
    assert ticket_id not in {
        t["id"] for t in api_clients["maria"].get("/api/tickets?assignee=me").json()["items"]
    }
    both = api_clients["sam"].patch(url, {"assignee_id": None, "status": "open"})
    assert (both.json()["assignee"], both.json()["status"]) == (None, "open")
    unassigned = api_clients["sam"].get("/api/tickets?assignee=none&status=open").json()
    assert ticket_id in {t["id"] for t in unassigned["items"]}
    with console_store.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.assignee_id, ticket.status) == (None, TicketStatus.OPEN)
        audited = session.execute(
            select(AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.subject == f"ticket:{ticket_id}")
            .order_by(AuditEntry.id)
        ).all()
    assert [(a, d) for a, d in audited] == [
        ("ticket.assign", {"assignee": sam}),
        ("ticket.status", {"status": "open"}),
        ("ticket.assign", {"assignee": None}),
    ]


def test_bad_updates(api_clients, api_handoff, console_store):
    ticket_id = _ticket(console_store, api_handoff())
    url = f"/api/tickets/{ticket_id}"
    for body, error in (
        ({"assignee_id": 987654321}, "bad_assignee"),
        ({"assignee_id": "sam"}, "bad_assignee"),
        ({"assignee_id": True}, "bad_assignee"),
        ({"status": "done"}, "bad_status"),
        ({}, "bad_request"),
    ):
        reply = api_clients["sam"].patch(url, body)
        assert (reply.status, reply.json()["error"]) == (400, error), body
    assert api_clients["sam"].patch("/api/tickets/987654321", {"status": "open"}).status == 404
    assert api_clients["sam"].get("/api/tickets/987654321").status == 404
    assert api_clients["sam"].get("/api/tickets?assignee=bob").status == 400
    with console_store.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.assignee_id, ticket.status) == (None, TicketStatus.NEW)


def test_subject_is_the_readers_question_and_replies_are_kept(
    api_clients, api_handoff, console_store
):
    conversation_id = api_handoff()
    ticket_id = _ticket(console_store, conversation_id, body=f"\n  {QUESTION}\nThanks!")
    short_id = _ticket(console_store, conversation_id, body="Lost my card")
    url = f"/api/tickets/{ticket_id}"
    shown = api_clients["sam"].get(url).json()
    assert shown["subject"] == (
        "Can I renew the atlas my son borrowed? It is due tomorrow and we need it for a…"
    )
    assert api_clients["sam"].get(f"/api/tickets/{short_id}").json()["subject"] == "Lost my card"
    assert shown["replies"] == []
    for text in ("Yes, renewed until the 20th.", "It is renewed once more."):
        assert api_clients["sam"].post(f"{url}/reply", {"text": text}).status == 201
    assert api_clients["maria"].post(f"{url}/reply", {"text": "Anything else?"}).status == 201
    history = api_clients["sam"].get(url).json()["replies"]
    assert [(r["author"], r["text"], r["delivery"], r["status"]) for r in history] == [
        ("Sam Reyes", "Yes, renewed until the 20th.", "email", "pending_email"),
        ("Sam Reyes", "It is renewed once more.", "email", "pending_email"),
        ("Maria Lopez", "Anything else?", "email", "pending_email"),
    ]
    listed = {t["id"]: t for t in api_clients["sam"].get("/api/tickets").json()["items"]}
    assert [r["text"] for r in listed[ticket_id]["replies"]] == [r["text"] for r in history]
    assert listed[short_id]["replies"] == []


def test_card_numbers_are_masked_in_tickets_replies_and_the_queue(
    api_clients, api_handoff, console_store
):
    card = "2123 4000 1234 56"
    conversation_id = api_handoff(f"my card {card} is blocked, can you help?")
    queue = api_clients["sam"].get("/api/queue").json()["items"]
    [item] = [i for i in queue if i["conversation_id"] == conversation_id]
    assert item["last_message"]["text"] == "my card **********3456 is blocked, can you help?"

    ticket_id = _ticket(console_store, conversation_id, body=f"Card 21234000123456 blocked\n{card}")
    reply = api_clients["sam"].post(
        f"/api/tickets/{ticket_id}/reply", {"text": "We unblocked 21234000123456 today."}
    )
    assert reply.status == 201, reply.text
    ticket = api_clients["maria"].get(f"/api/tickets/{ticket_id}").json()
    assert ticket["subject"] == "Card **********3456 blocked"
    assert ticket["body"] == "Card **********3456 blocked\n**********3456"
    assert [r["text"] for r in ticket["replies"]] == ["We unblocked **********3456 today."]
    listed = api_clients["maria"].get("/api/tickets").json()["items"]
    [row] = [t for t in listed if t["id"] == ticket_id]
    assert "21234000123456" not in str(row) and "2123 4000 1234 56" not in str(row)
    with console_store.sessions() as session:
        assert session.get(Ticket, ticket_id).body == f"Card 21234000123456 blocked\n{card}"


def test_a_subject_is_the_first_line_cut_at_a_word_and_masked():
    from crm_store.repositories import subject_from

    long = "Could you tell me whether the local history room holds the 1923 town plan " * 2
    assert subject_from(long) == (
        "Could you tell me whether the local history room holds the 1923 town plan Could…"
    )
    assert subject_from("\n  \nMy card 21234000123456 is lost\nsecond line") == (
        "My card **********3456 is lost"
    )
    assert subject_from("   ") is None
    assert subject_from(None) is None
