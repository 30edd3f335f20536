"""The worker's console API: follow-ups, notifications and reader reminder preferences."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from crm_store.models import Handoff, HandoffStatus, Reader
from crm_store.models.operations import FollowUp
from crm_store.models.statuses import FollowUpStatus
from messaging.outreach_store import notify, record_follow_up_answer

XSS = '<img src=x onerror="alert(1)">'


def _soon() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()


def _resolve_in_store(console_store, conversation_id: int, librarian: str = "sam") -> None:
    from crm_store.models import StaffUser

    with console_store.sessions.begin() as session:
        staff_id = session.execute(
            select(StaffUser.id).where(StaffUser.username == librarian)
        ).scalar_one()
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        handoff.status = HandoffStatus.RESOLVED
        handoff.librarian_id = staff_id
        handoff.resolved_at = handoff.requested_at


def test_a_follow_up_is_planned_and_its_answer_reaches_the_librarian(
    api_clients, api_handoff, console_store
):
    conversation_id = api_handoff()
    path = f"/api/conversations/{conversation_id}/follow-up"
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    while_open = api_clients["sam"].post(path, {"due": tomorrow})
    assert (while_open.status, while_open.json()["error"]) == (409, "handoff_open")

    _resolve_in_store(console_store, conversation_id)
    assert api_clients["sam"].post(path, {"due": "next week"}).status == 400
    assert api_clients["sam"].post(path, {"due": "2001-01-01"}).status == 400
    created = api_clients["sam"].post(path, {"due": tomorrow, "note": "check the ILL arrived"})
    assert created.status == 201
    follow_up = created.json()
    assert (follow_up["due"], follow_up["status"], follow_up["note"]) == (
        tomorrow,
        "scheduled",
        "check the ILL arrived",
    )

    # The worker sent it and the reader answered "no" in the chat.
    with console_store.sessions.begin() as session:
        row = session.get(FollowUp, follow_up["id"])
        row.status = FollowUpStatus.SENT.value
        row.sent_sender_id = "api-answer-sender"
        record_follow_up_answer(
            session, follow_up_id=row.id, sender_id="api-answer-sender", answer="no", text=XSS
        )
    listed = api_clients["maria"].get(f"/api/conversations/{conversation_id}/follow-ups").json()
    assert [(f["id"], f["status"], f["answer"], f["answer_text"]) for f in listed["items"]] == [
        (follow_up["id"], "answered", "no", XSS)
    ]

    mine = api_clients["sam"].get("/api/notifications?unread=1").json()
    answers = [n for n in mine["items"] if n["subject"] == f"conversation:{conversation_id}"]
    assert [(n["kind"], n["body"]) for n in answers] == [("follow_up_answer", XSS)]
    theirs = api_clients["maria"].get("/api/notifications").json()
    assert [n for n in theirs["items"] if n["id"] == answers[0]["id"]] == []
    assert api_clients["maria"].post(f"/api/notifications/{answers[0]['id']}/read").status == 404
    read = api_clients["sam"].post(f"/api/notifications/{answers[0]['id']}/read")
    assert read.status == 200
    assert read.json()["read_at"] is not None
    after = api_clients["sam"].get("/api/notifications?unread=1").json()
    assert answers[0]["id"] not in [n["id"] for n in after["items"]]


def test_a_follow_up_can_be_cancelled_before_it_is_sent(api_clients, api_handoff, console_store):
    conversation_id = api_handoff()
    _resolve_in_store(console_store, conversation_id)
    created = api_clients["sam"].post(
        f"/api/conversations/{conversation_id}/follow-up", {"due": _soon()}
    )
    cancelled = api_clients["sam"].post(f"/api/follow-ups/{created.json()['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    again = api_clients["sam"].post(f"/api/follow-ups/{created.json()['id']}/cancel")
    assert (again.status, again.json()["error"]) == (409, "not_scheduled")


def test_unassigned_notifications_are_everyones(api_clients, console_store):
    with console_store.sessions.begin() as session:
        row = notify(
            session,
            dedupe_key="api-test-broadcast",
            kind="ticket_reminder",
            subject="ticket:999",
            title="Ticket #999 has waited 24 h for a reply",
        )
        assert row is not None
        notification_id = row.id
        assert (
            notify(session, dedupe_key="api-test-broadcast", kind="x", subject="x", title="twice")
            is None
        )
    for name in ("sam", "maria"):
        items = api_clients[name].get("/api/notifications").json()["items"]
        assert notification_id in [n["id"] for n in items]
    assert api_clients["anon"].get("/api/notifications").status == 401


def test_reader_preferences_record_consent_and_its_withdrawal(api_clients, console_store):
    with console_store.sessions.begin() as session:
        reader = Reader(display_name="Mei Lin", card_number="21234000345678")
        session.add(reader)
        session.flush()
        reader_id = reader.id
    path = f"/api/readers/{reader_id}/preferences"
    initial = api_clients["sam"].get(path).json()
    assert (initial["due_date_reminders"], initial["consent_given_at"]) == (False, None)

    assert api_clients["sam"].call("PUT", path, {"due_date_reminders": "yes"}).status == 400
    assert api_clients["sam"].call("PUT", path, {"reminder_days": 99}).status == 400
    on = (
        api_clients["sam"]
        .call(
            "PUT",
            path,
            {"due_date_reminders": True, "hold_ready_notices": True, "reminder_days": 2},
        )
        .json()
    )
    assert (on["due_date_reminders"], on["hold_ready_notices"], on["reminder_days"]) == (
        True,
        True,
        2,
    )
    assert on["consent_given_at"] is not None
    assert on["consent_source"].startswith("console:")
    off = (
        api_clients["sam"]
        .call("PUT", path, {"due_date_reminders": False, "hold_ready_notices": False})
        .json()
    )
    assert off["consent_withdrawn_at"] is not None
    assert api_clients["sam"].get("/api/readers/999999/preferences").status == 404


def test_openapi_describes_the_worker_endpoints(api_clients):
    paths = api_clients["anon"].get("/api/openapi.json").json()["paths"]
    assert {p: set(paths[p]) for p in paths if p in WORKER_PATHS} == WORKER_PATHS


WORKER_PATHS = {
    "/api/notifications": {"get"},
    "/api/notifications/{id}/read": {"post"},
    "/api/conversations/{id}/follow-up": {"post"},
    "/api/conversations/{id}/follow-ups": {"get"},
    "/api/follow-ups/{id}/cancel": {"post"},
    "/api/readers/{id}/preferences": {"get", "put"},
}
