"""Ticket reminders (notification and email over real SMTP) and follow-ups, in travelled time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import OutboundMessage, Ticket, TicketStatus
from crm_store.models.operations import FollowUp, Notification
from messaging.outreach_store import record_follow_up_answer, schedule_follow_up
from tests.crm_store._worker_data import conversation, reader, resolved_handoff, staff, travel
from tests.standins.rasa_api import RasaStandIn, rasa_standin
from tests.system import free_port
from worker.jobs.follow_ups import FOLLOW_UP_INTENT, remind_stale_tickets, send_due_follow_ups

__all__ = ["rasa_standin", "travel"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    """A real SMTP server (aiosmtpd) on loopback, configured through the RIC_EMAIL_* env."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("RIC_EMAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RIC_EMAIL_SMTP_PORT", str(port))
    monkeypatch.setenv("RIC_EMAIL_FROM", "desk@riverbend-library.example")
    monkeypatch.setenv("RIC_EMAIL_SMTP_STARTTLS", "0")
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_TICKET_REMINDER_HOURS", "24")
    monkeypatch.setenv("RIC_QUIET_HOURS", "21:00-08:00")


def _ticket(session: Session, assignee_id: int | None = None) -> Ticket:
    row = Ticket(
        subject="Interlibrary loan not arrived",
        body="I requested a book three weeks ago <b>and</b> nothing yet.",
        contact="reader@example.org",
        status=TicketStatus.NEW,
        assignee_id=assignee_id,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def test_an_unanswered_ticket_reminds_staff_once_per_period(
    sessions: sessionmaker[Session], smtp: _Inbox, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam", email="sam@riverbend-library.example")
        staff(session, "maria", email="maria@riverbend-library.example")
        ticket = _ticket(session, assignee_id=sam.id)
        ticket_id, sam_id = ticket.id, sam.id

    travel.advance(timedelta(hours=23))
    assert remind_stale_tickets(sessions) == []
    travel.advance(timedelta(hours=2))
    first = remind_stale_tickets(sessions)
    assert len(first) == 1
    assert remind_stale_tickets(sessions) == []  # same period: nothing new
    with sessions() as session:
        note = session.get(Notification, first[0])
        assert note is not None
        assert (note.kind, note.subject, note.staff_user_id, note.email_status) == (
            "ticket_reminder",
            f"ticket:{ticket_id}",
            sam_id,
            "sent",
        )
    assert len(smtp.messages) == 1
    sender, recipients, raw = smtp.messages[0]
    mail = message_from_bytes(raw)
    assert (sender, recipients) == (
        "desk@riverbend-library.example",
        ["sam@riverbend-library.example"],
    )
    assert mail["Subject"] == note.title
    assert f"Ticket #{ticket_id} has waited 24 h" in note.title

    travel.advance(timedelta(hours=24))
    assert len(remind_stale_tickets(sessions)) == 1  # the next period
    assert len(smtp.messages) == 2


def test_a_staff_reply_stops_the_reminders(
    sessions: sessionmaker[Session], smtp: _Inbox, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam", email="sam@riverbend-library.example")
        conv = conversation(session, "widget-t1")
        ticket = _ticket(session)
        ticket.conversation_id = conv.id
        ticket_id = ticket.id
    travel.advance(timedelta(hours=20))
    with sessions.begin() as session:
        session.add(
            OutboundMessage(
                conversation_id=conv.id,
                staff_user_id=sam.id,
                ticket_id=ticket_id,
                text="We are on it.",
                status="sent",
                created_at=clock.now(),
            )
        )
        row = session.get(Ticket, ticket_id)
        assert row is not None
        row.status = TicketStatus.PENDING
    travel.advance(timedelta(days=3))
    assert remind_stale_tickets(sessions) == []
    assert smtp.messages == []


def test_without_smtp_settings_the_notification_stays(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, travel: clock.TravelClock
) -> None:
    monkeypatch.delenv("RIC_EMAIL_SMTP_HOST", raising=False)
    with sessions.begin() as session:
        staff(session, "sam", email="sam@riverbend-library.example")
        _ticket(session)  # unassigned: every librarian is told
    travel.advance(timedelta(hours=25))
    created = remind_stale_tickets(sessions)
    with sessions() as session:
        rows = session.execute(select(Notification)).scalars().all()
    assert [(r.id, r.staff_user_id, r.email_status) for r in rows] == [
        (created[0], None, "not_configured")
    ]


def test_a_follow_up_goes_out_on_its_day_to_the_latest_channel_and_the_answer_is_kept(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam")
        ada = reader(session, card="21234000123456")
        old = conversation(session, "widget-old", reader_id=ada.id)
        resolved_handoff(session, old, sam)
        follow_up = schedule_follow_up(
            session,
            conversation_id=old.id,
            staff_user_id=sam.id,
            due=date(2026, 3, 12),
            note="did the ILL arrive?",
        )
        follow_up_id = follow_up.id
    travel.set(datetime(2026, 3, 11, 10, 0, tzinfo=timezone.utc))
    with sessions.begin() as session:
        # Meanwhile the reader wrote on Telegram: that is where they are now.
        conversation(session, "tg-ada", channel="telegram", reader_id=ada.id)
    assert send_due_follow_ups(sessions) == []

    travel.set(datetime(2026, 3, 12, 7, 30, tzinfo=timezone.utc))  # due, but quiet hours
    assert send_due_follow_ups(sessions) == []
    travel.set(datetime(2026, 3, 12, 9, 0, tzinfo=timezone.utc))
    assert send_due_follow_ups(sessions) == [follow_up_id]
    assert send_due_follow_ups(sessions) == []
    calls = rasa_standin.triggers(FOLLOW_UP_INTENT)
    assert [(c.sender_id, c.params["output_channel"], c.body["entities"]) for c in calls] == [
        ("tg-ada", "telegram", {"follow_up_id": str(follow_up_id)})
    ]

    with sessions.begin() as session:
        record_follow_up_answer(
            session, follow_up_id=follow_up_id, sender_id="tg-ada", answer="yes", text="yes"
        )
    with sessions() as session:
        row = session.get(FollowUp, follow_up_id)
        assert row is not None
        assert (row.status, row.answer, row.sent_channel) == ("answered", "yes", "telegram")
        notes = session.execute(select(Notification)).scalars().all()
    assert [(n.kind, n.staff_user_id) for n in notes] == [("follow_up_answer", sam.id)]


def test_an_unreachable_reader_makes_the_follow_up_undeliverable(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam")
        conv = conversation(session, "rest-1", channel="rest")
        resolved_handoff(session, conv, sam)
        schedule_follow_up(
            session, conversation_id=conv.id, staff_user_id=sam.id, due=date(2026, 3, 10), note=None
        )
    assert send_due_follow_ups(sessions) == []
    with sessions() as session:
        row = session.execute(select(FollowUp)).scalar_one()
        notes = session.execute(select(Notification.kind)).scalars().all()
    assert row.status == "undeliverable"
    assert notes == ["follow_up_undeliverable"]
    assert rasa_standin.triggers() == []
