"""Handing over to a librarian: chat hours, the queue, and leaving a message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import hours
from actions.handoff import (
    ActionCreateTicket,
    ActionHandoff,
    ValidateLeaveMessageForm,
    expected_answer,
    next_staffed,
    staffed_now,
    stated_reason,
)
from crm_store.models import Conversation, Handoff, HandoffStatus, Reader, Ticket, TicketStatus
from crm_store.repositories import link_verified_reader
from library.profile import clear_profile_cache, load_profile
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


def test_handoff_outside_hours_starts_the_message_form(store, clock):
    clock(at(2026, 11, 29, 12))  # Sunday

    events, messages = _handoff()

    assert events == [{"event": "followup", "timestamp": None, "name": "leave_message_form"}]
    assert messages == [
        ("Our librarians aren't in the chat right now; they're back tomorrow at 9:00.", [])
    ]
    with store.begin() as session:
        assert session.execute(select(Handoff.id)).scalars().all() == []


def test_handoff_outside_hours_keeps_the_reason_given_as_the_message(store, clock):
    clock(at(2026, 11, 29, 12))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "can I talk to a librarian about a fine I was charged by mistake", intent="request_human"
    )

    events = aio_run(ActionHandoff().run(dispatcher, tracker, {}))

    assert events[0] == {
        "event": "slot",
        "timestamp": None,
        "name": "ticket_message",
        "value": "a fine I was charged by mistake",
    }


def test_handoff_in_hours_puts_the_readers_reason_on_the_queue(store, clock):
    clock(at(2026, 11, 30, 10))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "i want a real person, my card is blocked and i need it today", intent="request_human"
    )

    aio_run(ActionHandoff().run(dispatcher, tracker, {}))

    with store.begin() as session:
        reasons = session.execute(select(Handoff.reason)).scalars().all()
    assert reasons == ["reader asked for a librarian: my card is blocked and i need it today"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("talk to a librarian", None),
        ("librarian please", None),
        ("speak to someone", None),
        (
            "can I talk to a librarian about a fine I was charged by mistake",
            "a fine I was charged by mistake",
        ),
        (
            "a librarian please, because my hold vanished from the app",
            "my hold vanished from the app",
        ),
    ],
)
def test_stated_reason(text, expected):
    assert stated_reason(text) == expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(2026, 11, 30, 10), "A librarian will answer today, usually within a few hours."),
        (
            at(2026, 11, 29, 12),
            "Librarians are back tomorrow at 9:00, so expect an answer tomorrow, after 9:00.",
        ),
        (
            at(2026, 12, 5, 17),
            "Librarians are back Monday at 9:00, so expect an answer on Monday, after 9:00.",
        ),
    ],
)
def test_expected_answer(profile, when, expected):
    assert expected_answer(profile, when) == expected


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


def test_create_ticket_with_an_email(store, clock):
    clock(at(2026, 11, 30, 10))
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
        "Thanks, your message is with the library team (ticket #1). We'll reply at "
        "ada@example.org. A librarian will answer today, usually within a few hours."
    ]
    assert [(e["name"], e["value"]) for e in events] == [
        ("ticket_message", None),
        ("ticket_contact", None),
    ]


def test_create_ticket_answered_in_the_chat_is_linked_to_the_signed_in_reader(store, clock):
    clock(at(2026, 11, 30, 10))
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
        "Thanks, your message is with the library team (ticket #1). We'll reply here in this "
        "chat. A librarian will answer today, usually within a few hours."
    ]


def _leave_message_turn(text, requested, intent=None, entities=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text, intent=intent, entities=entities, slots={"requested_slot": requested}
    )
    form = ValidateLeaveMessageForm()
    message = aio_run(form.extract_ticket_message(dispatcher, tracker, {}))
    contact = aio_run(form.extract_ticket_contact(dispatcher, tracker, {}))
    return message, contact, [m["text"] for m in dispatcher.messages]


def test_the_problem_typed_when_asked_is_the_message_whatever_its_intent():
    text = "my card was charged twice for the same DVD, can someone fix it"

    assert _leave_message_turn(text, "ticket_message", intent="check_fines") == (
        {"ticket_message": text},
        {},
        [],
    )


def test_an_email_typed_next_is_the_contact():
    entities = [{"entity": "email", "value": "ada.okafor@example.org"}]

    message, contact, _ = _leave_message_turn(
        "ada.okafor@example.org", "ticket_contact", intent="inform", entities=entities
    )

    assert (message, contact) == ({}, {"ticket_contact": "ada.okafor@example.org"})


def test_an_email_inside_the_message_is_taken_as_the_contact_too():
    message, contact, _ = _leave_message_turn(
        "please order Piranesi for me, reply to ada@example.org", "ticket_message"
    )

    assert contact == {"ticket_contact": "ada@example.org"}
    assert message == {"ticket_message": "please order Piranesi for me, reply to ada@example.org"}


@pytest.mark.parametrize("text", ["no thanks", "/deny", "Never mind."])
def test_declining_leaves_the_message_unfilled_so_the_form_stops(text):
    assert _leave_message_turn(text, "ticket_message", intent="deny") == ({}, {}, [])


def test_yes_asks_for_the_message_itself():
    assert _leave_message_turn("yes please", "ticket_message", intent="affirm") == (
        {"ticket_message": None},
        {},
        ["Go ahead: type your message and I'll pass it on."],
    )


def test_the_test_clock_file_sets_the_time_and_overrides_always_staffed(
    profile, tmp_path, monkeypatch
):
    monkeypatch.setenv("RIC_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RIC_CHAT_ALWAYS_STAFFED", "1")
    assert hours.test_clock_time() is None
    assert staffed_now(profile, at(2026, 11, 29, 12)) is True  # Sunday, but always staffed

    (tmp_path / "test_clock").write_text("2026-11-29T12:00:00+00:00")

    assert hours.clock(LONDON) == at(2026, 11, 29, 12)
    assert staffed_now(profile, at(2026, 11, 29, 12)) is False
    assert staffed_now(profile, at(2026, 11, 30, 10)) is True


def test_a_test_clock_without_a_timezone_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("RIC_VAR_DIR", str(tmp_path))
    (tmp_path / "test_clock").write_text("2026-11-29T12:00:00")

    assert hours.test_clock_time() is None


def test_unset_message_and_contact_are_asked_for_without_a_complaint():
    dispatcher = CollectingDispatcher()
    form = ValidateLeaveMessageForm()

    assert form.validate_ticket_message(None, dispatcher, make_tracker(""), {}) == {
        "ticket_message": None
    }
    assert form.validate_ticket_contact(None, dispatcher, make_tracker(""), {}) == {
        "ticket_contact": None
    }
    assert dispatcher.messages == []


def test_the_message_is_stored_as_typed_not_as_cleaned_for_nlu():
    typed = "please check my fine\n\nOn Mon, the library wrote:\n> You owe <b>£3.40</b>"
    tracker = make_tracker(typed, slots={"requested_slot": "ticket_message"})
    tracker.latest_message["text"] = "please check my fine"  # what MessageCleanup left for NLU

    result = aio_run(
        ValidateLeaveMessageForm().extract_ticket_message(CollectingDispatcher(), tracker, {})
    )

    assert result == {"ticket_message": typed}
