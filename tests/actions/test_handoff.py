"""Handing over to a librarian: chat hours, the queue, and leaving a message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import hours
from actions.handoff import (
    LEAVE_MESSAGE_BUTTONS,
    ActionCreateTicket,
    ActionHandoff,
    ValidateLeaveMessageForm,
    next_staffed,
    staffed_now,
)
from actions.library_profile import clear_profile_cache, load_profile
from crm_store.models import Conversation, Handoff, HandoffStatus, Reader, Ticket, TicketStatus
from crm_store.repositories import link_verified_reader
from tests.aio import run as aio_run

from .conftest import make_tracker

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def profile():
    clear_profile_cache()
    return load_profile()


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def clock(monkeypatch):
    def set_clock(when):
        monkeypatch.setattr(hours, "clock", lambda tz: when.astimezone(tz))

    return set_clock


# --------------------------------------------------------------------------- chat hours


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(2026, 11, 30, 10), True),  # Monday
        (at(2026, 11, 30, 9), True),  # opening minute
        (at(2026, 11, 30, 8, 59), False),
        (at(2026, 11, 30, 19), False),  # closing minute
        (at(2026, 12, 4, 17, 30), False),  # Friday closes at 17:00
        (at(2026, 12, 5, 11), True),  # Saturday
        (at(2026, 11, 29, 12), False),  # Sunday
        (at(2026, 12, 25, 10), False),  # Christmas Day, a Friday
        (datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("UTC")), True),
    ],
)
def test_staffed_now(profile, when, expected):
    assert staffed_now(profile, when) is expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(2026, 11, 30, 7), "today at 9:00"),
        (at(2026, 11, 30, 20), "tomorrow at 9:00"),
        (at(2026, 11, 29, 12), "tomorrow at 9:00"),  # Sunday
        (at(2026, 12, 4, 18), "tomorrow at 10:00"),  # Friday evening, Saturday opens at 10
        (at(2026, 12, 5, 17), "Monday at 9:00"),  # Saturday evening
        # Christmas, Boxing Day, Sunday and the substitute holiday are all closed.
        (at(2026, 12, 25, 10), "Tuesday at 9:00"),
    ],
)
def test_next_staffed(profile, when, expected):
    assert next_staffed(profile, when) == expected


# --------------------------------------------------------------------------- ActionHandoff


def _handoff(sender_id="reader-1", intent="request_human", channel="webchat"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("talk to a person", intent=intent, sender_id=sender_id, channel=channel)
    events = aio_run(ActionHandoff().run(dispatcher, tracker, {}))
    return events, [(m["text"], m["buttons"]) for m in dispatcher.messages]


def test_handoff_in_hours_pauses_and_queues(store, clock):
    clock(at(2026, 11, 30, 10))

    events, messages = _handoff()

    assert [e["event"] for e in events] == ["pause"]
    assert messages == [
        (
            "I've asked a librarian to join this chat. You're next. You can keep typing: "
            "they'll see everything you write here.",
            [],
        )
    ]
    with store.begin() as session:
        rows = [
            (c.sender_id, c.channel, h.status, h.reason)
            for h, c in session.execute(
                select(Handoff, Conversation).join(
                    Conversation, Conversation.id == Handoff.conversation_id
                )
            )
        ]
    assert rows == [("reader-1", "webchat", HandoffStatus.WAITING, "reader asked for a librarian")]


def test_second_conversation_is_number_two(store, clock):
    clock(at(2026, 11, 30, 10))
    _handoff("reader-1")

    events, messages = _handoff("reader-2", intent="nlu_fallback", channel="telegram")

    assert [e["event"] for e in events] == ["pause"]
    assert messages[0][0] == (
        "I've asked a librarian to join this chat. You're number 2 in the queue. You can keep "
        "typing: they'll see everything you write here."
    )
    with store.begin() as session:
        reasons = session.execute(select(Handoff.reason).order_by(Handoff.id)).scalars().all()
    assert reasons == ["reader asked for a librarian", "the bot did not understand"]


def test_asking_twice_keeps_one_waiting_handoff(store, clock):
    clock(at(2026, 11, 30, 10))
    _handoff("reader-1")
    _handoff("reader-2")

    _, messages = _handoff("reader-1")

    assert messages[0][0].startswith("I've asked a librarian to join this chat. You're next.")
    with store.begin() as session:
        count = len(session.execute(select(Handoff.id)).scalars().all())
    assert count == 2


def test_handoff_outside_hours_offers_to_leave_a_message(store, clock):
    clock(at(2026, 11, 29, 12))  # Sunday

    events, messages = _handoff()

    assert events == []
    assert messages == [
        (
            "Our librarians aren't in the chat right now; they're back tomorrow at 9:00. "
            "Would you like to leave a message? We'll reply here or by email.",
            LEAVE_MESSAGE_BUTTONS,
        )
    ]
    with store.begin() as session:
        assert session.execute(select(Handoff.id)).scalars().all() == []


# --------------------------------------------------------------------------- leave a message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ada@example.org", "ada@example.org"),
        (
            "you can email me at Ada.Okafor+lib@mail.example.co.uk thanks",
            ("Ada.Okafor+lib@mail.example.co.uk"),
        ),
        ("here", "telegram:777001"),
        ("Reply here.", "telegram:777001"),
        ("/reply_here", "telegram:777001"),
    ],
)
def test_ticket_contact_accepted(value, expected):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(value, sender_id="777001", channel="telegram")

    result = ValidateLeaveMessageForm().validate_ticket_contact(value, dispatcher, tracker, {})

    assert result == {"ticket_contact": expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize("value", ["rubbish", "ada at example dot org", "", "ada@"])
def test_ticket_contact_refused(value):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(value)

    result = ValidateLeaveMessageForm().validate_ticket_contact(value, dispatcher, tracker, {})

    assert result == {"ticket_contact": None}
    assert [m["text"] for m in dispatcher.messages] == [
        'I need an email address (like name@example.org), or say "here" to get the reply '
        "in this chat."
    ]


def test_ticket_message_must_not_be_empty():
    dispatcher = CollectingDispatcher()
    validate = ValidateLeaveMessageForm().validate_ticket_message

    assert validate("  Can you order a book?  ", dispatcher, make_tracker(""), {}) == {
        "ticket_message": "Can you order a book?"
    }
    assert validate(" ", dispatcher, make_tracker(""), {}) == {"ticket_message": None}
    assert [m["text"] for m in dispatcher.messages] == [
        "Please type your message for the librarians."
    ]


def _create_ticket(message, contact, sender_id="reader-1", channel="webchat"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "yes",
        sender_id=sender_id,
        channel=channel,
        slots={"ticket_message": message, "ticket_contact": contact},
    )
    events = aio_run(ActionCreateTicket().run(dispatcher, tracker, {}))
    return events, [m["text"] for m in dispatcher.messages]


def test_create_ticket_with_an_email(store):
    events, texts = _create_ticket(
        "Could you order Piranesi?\nThe paperback, please.", "ada@example.org"
    )

    with store.begin() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        row = (ticket.id, ticket.subject, ticket.body, ticket.contact, ticket.status)
        sender = session.get(Conversation, ticket.conversation_id).sender_id
    assert row == (
        1,
        "Could you order Piranesi?",
        "Could you order Piranesi?\nThe paperback, please.",
        "ada@example.org",
        TicketStatus.NEW,
    )
    assert sender == "reader-1"
    assert texts == [
        "Thanks, your message is with the library team (ticket #1). We'll reply at ada@example.org."
    ]
    assert [(e["name"], e["value"]) for e in events] == [
        ("ticket_message", None),
        ("ticket_contact", None),
    ]


def test_create_ticket_answered_in_the_chat_is_linked_to_the_signed_in_reader(store):
    with store.begin() as session:
        link_verified_reader(
            session,
            channel="telegram",
            external_id="777001",
            card_number="21234000123456",
            name="Ada Okafor",
            email="ada.okafor@example.org",
        )

    _, texts = _create_ticket(
        "Is my hold ready?", "telegram:777001", sender_id="777001", channel="telegram"
    )

    with store.begin() as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        reader = session.get(Reader, ticket.reader_id)
        linked = (reader.card_number, ticket.contact)
    assert linked == ("21234000123456", "telegram:777001")
    assert texts == [
        "Thanks, your message is with the library team (ticket #1). We'll reply here in this chat."
    ]
