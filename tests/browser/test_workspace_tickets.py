"""Tickets in headless Chromium: a readable subject, assign, status on change, reply history.

Only the console runs (a real ``python -m handoff_console`` on a migrated SQLite store);
the tickets answer by email, so no reply needs Rasa.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import AuditEntry, StaffUser, Ticket, TicketStatus
from crm_store.repositories import create_ticket
from tests.browser.axe import axe_violations, report
from tests.browser.conftest import LIBRARIAN, ConsoleScene, StartScene

pytestmark = [pytest.mark.browser, pytest.mark.workspace]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "console"
QUESTION = "Can you find me the <b>1923</b> town plan of Riverbend?\nI need it for a talk."


@dataclass
class Scene(ConsoleScene):
    """A console with two librarians and two tickets left by readers."""

    plan: int = 0
    card: int = 0
    maria: int = 0


def _ticket(session, body: str, contact: str) -> int:
    sender_id = f"web-{uuid.uuid4().hex[:8]}"
    event = {
        "event": "user",
        "text": body,
        "timestamp": time.time() - 600,
        "input_channel": "webchat",
        "parse_data": {"intent": {"name": "leave_message", "confidence": 0.9}},
    }
    ingest(session, [RasaEvent(sender_id, event)], "test")
    ticket = create_ticket(
        session,
        sender_id=sender_id,
        channel="webchat",
        subject="Chat not answered: nobody online",
        body=body,
        contact=contact,
    )
    return int(ticket.id)


@pytest.fixture
def scene(console_scene: StartScene) -> Scene:
    def setup(session: Session) -> tuple[int, int, int]:
        card = _ticket(session, "I lost my library card", "card@example.org")
        plan = _ticket(session, QUESTION, "reader@example.org")
        maria = session.execute(select(StaffUser.id).where(StaffUser.username == "maria"))
        return plan, card, int(maria.scalar_one())

    staff = [LIBRARIAN, ("maria", "librarian", "Maria Lopez")]
    base, (plan, card, maria) = console_scene(setup, staff)
    return Scene(base.console, base.url, base.sessions, plan, card, maria)


def _stored(scene: Scene) -> Ticket:
    with scene.sessions() as session:  # type: ignore[operator]
        ticket = session.get(Ticket, scene.plan)
        session.expunge(ticket)
        return ticket


def test_assign_change_status_and_reply(page: Page, scene: Scene) -> None:
    page.set_viewport_size({"width": 1366, "height": 1000})
    scene.sign_in(page, "/tickets")
    tickets = page.locator("#tickets-list .ticket")
    expect(tickets).to_have_count(2)
    plan = page.locator(f'.ticket[data-ticket-id="{scene.plan}"]')
    # The subject is the reader's first line, as text, not "Chat not answered: …".
    expect(plan.locator(".ticket-subject")).to_have_text(
        "Can you find me the <b>1923</b> town plan of Riverbend?"
    )
    expect(plan.locator(".ticket-body")).to_have_text(QUESTION)
    expect(page.locator("#tickets-list b")).to_have_count(0)
    expect(plan.get_by_label("Assignee")).to_have_value("")

    plan.get_by_label("Assignee").select_option(label="Maria Lopez")
    expect(plan.locator(".ticket-feedback")).to_have_text("Assigned to Maria Lopez.")
    expect(plan.get_by_label("Assignee")).to_have_value(str(scene.maria))
    assert _stored(scene).assignee_id == scene.maria

    plan.get_by_label("Status").select_option("open")
    expect(plan.locator(".ticket-feedback")).to_have_text("Status saved: Open.")
    expect(plan.locator(".ticket-status-badge")).to_have_text("open")
    assert _stored(scene).status == TicketStatus.OPEN
    # No separate button: the selects save by themselves.
    expect(plan.get_by_role("button", name=re.compile("status", re.I))).to_have_count(0)

    plan.get_by_label("Reply to").fill("Found it: the plan is in the local history room.")
    plan.get_by_role("button", name="Send reply").click()
    expect(plan.locator(".ticket-feedback")).to_have_text("Reply sent.")
    history = plan.locator(".ticket-history li")
    expect(history).to_have_count(1)
    expect(history.first.locator(".ticket-reply-text")).to_have_text(
        "Found it: the plan is in the local history room."
    )
    expect(history.first).to_contain_text("Sam Reyes")
    expect(history.first).to_contain_text("by email, email queued")
    # A reply moves the ticket to pending; the select says so.
    expect(plan.get_by_label("Status")).to_have_value("pending")

    plan.get_by_label("Assignee").select_option(label="Sam Reyes (me)")
    expect(plan.locator(".ticket-feedback")).to_have_text("Assigned to Sam Reyes.")
    violations = axe_violations(page)
    assert violations == [], report(violations)
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "tickets.png"))

    page.get_by_label("Assigned").select_option("me")
    expect(tickets).to_have_count(1)
    expect(tickets.first).to_have_attribute("data-ticket-id", str(scene.plan))
    plan.get_by_label("Assignee").select_option("")
    expect(plan.locator(".ticket-feedback")).to_have_text("Unassigned.")
    page.goto(f"{scene.url}/tickets")
    expect(page.locator(".ticket")).to_have_count(2)
    expect(
        page.locator(f'.ticket[data-ticket-id="{scene.plan}"]').get_by_label("Assignee")
    ).to_have_value("")
    with scene.sessions() as session:  # type: ignore[operator]
        ticket = session.get(Ticket, scene.plan)
        assert (ticket.assignee_id, ticket.status) == (None, TicketStatus.PENDING)
        actions = session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.subject == f"ticket:{scene.plan}")
            .order_by(AuditEntry.id)
        ).scalars()
        assert list(actions) == [
            "ticket.assign",
            "ticket.status",
            "ticket.reply",
            "ticket.assign",
            "ticket.assign",
        ]


def test_a_link_to_one_ticket_opens_it(page: Page, scene: Scene) -> None:
    page.set_viewport_size({"width": 1366, "height": 500})
    scene.sign_in(page, "/canned")
    page.goto(f"{scene.url}/tickets#ticket-{scene.card}")
    card = page.locator(f"#ticket-{scene.card}")
    expect(card).to_have_class(re.compile(r"\bis-target\b"))
    expect(card.locator(".ticket-subject")).to_be_focused()
    expect(card).to_be_in_viewport()
    expect(page.locator(".ticket.is-target")).to_have_count(1)
    # Another ticket's link on the same page moves the mark.
    page.evaluate(f"window.location.hash = '#ticket-{scene.plan}'")
    expect(page.locator(f"#ticket-{scene.plan}")).to_have_class(re.compile(r"\bis-target\b"))
    expect(page.locator(".ticket.is-target")).to_have_count(1)
