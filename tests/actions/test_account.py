"""Account transactions after sign-in, against the demo library system fixed at 30 Nov 2026."""

from __future__ import annotations

import json
import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions._common import LIBRARIAN_BUTTON
from actions.account import ActionResumeAccountRequest
from tests.aio import run as aio_run

from .conftest import ADA, MEI, PRIYA, TOMAS, make_tracker

RENEW_ALL = {"title": "Renew all", "payload": '/renew_loans{"renew_item": "all"}'}
SYSTEM_DOWN = (
    "Sorry, the library system isn't answering right now, so I can't reach your "
    "account. Please try again in a few minutes, or a librarian can help you now."
)


def _sign_in(library, reader):
    patron = aio_run(library.authenticate(*reader))
    return {
        "pin_check": "verified",
        "patron_id": patron.patron_id,
        "home_branch": patron.home_branch,
        "verified_at": time.time(),
    }


def _resume(library, reader, intent, text="", entities=(), slots=None):
    request = {"intent": intent, "text": text, "entities": list(entities)}
    signed_in = _sign_in(library, reader) if reader else {}
    tracker = make_tracker("4821", slots={**signed_in, "pending_request": request, **(slots or {})})
    dispatcher = CollectingDispatcher()
    events = aio_run(ActionResumeAccountRequest().run(dispatcher, tracker, {}))
    return events, [(m["text"], m["buttons"]) for m in dispatcher.messages]


def _slot_events(events):
    return [(e["name"], e["value"]) for e in events]


# --------------------------------------------------------------------------- loans


def test_loans_most_urgent_first_with_the_overdue_one_marked(library):
    events, messages = _resume(library, ADA, "check_loans", "what have I got out")

    assert _slot_events(events) == [("pending_request", None), ("pickup_needed", None)]
    assert messages == [
        (
            "You have 4 items on loan, 1 overdue:\n"
            "• Dune (book): overdue since Wed 25 Nov (5 days)\n"
            "• Jurassic Park (dvd): due Wed 2 Dec\n"
            "• The Hobbit (book): due Thu 3 Dec\n"
            "• Pride and Prejudice (book): due Sun 6 Dec",
            [RENEW_ALL],
        )
    ]


def test_no_loans(library):
    _, messages = _resume(library, PRIYA, "check_loans")

    assert messages == [("You have nothing on loan at the moment.", [])]


# --------------------------------------------------------------------------- renewals


def test_renew_all_reports_each_item(library):
    _, messages = _resume(
        library, ADA, "renew_loans", "/renew_loans", [{"entity": "renew_item", "value": "all"}]
    )

    assert messages == [
        (
            "I renewed 2 of 4:\n"
            "✓ Dune: renewed, now due Mon 21 Dec\n"
            "✗ Jurassic Park: “Jurassic Park” has been renewed the most times allowed (1). "
            "Please return it by Wednesday 2 December 2026.\n"
            "✗ The Hobbit: “The Hobbit” can't be renewed because another reader is waiting "
            "for it. Please return it by Thursday 3 December 2026.\n"
            "✓ Pride and Prejudice: renewed, now due Sun 27 Dec",
            [LIBRARIAN_BUTTON],
        )
    ]


def test_renew_all_typed(library):
    _, messages = _resume(library, MEI, "renew_loans", "renew everything please")

    assert messages == [
        (
            "I renewed 2 of 2:\n"
            "✓ Dune: renewed, now due Fri 18 Dec\n"
            "✓ The Hobbit: renewed, now due Sat 2 Jan",
            [],
        )
    ]


def test_renew_the_chosen_item(library):
    _, messages = _resume(
        library,
        ADA,
        "renew_loans",
        "/renew_loans",
        [{"entity": "renew_item", "value": "31234000010011"}],
    )

    assert messages == [
        ("I renewed 1 of 1:\n✓ Pride and Prejudice: renewed, now due Sun 27 Dec", [])
    ]


def test_renew_an_item_named_in_the_text(library):
    _, messages = _resume(library, ADA, "renew_loans", "can you renew dune")

    assert messages == [("I renewed 1 of 1:\n✓ Dune: renewed, now due Mon 21 Dec", [])]


def test_renew_without_a_choice_asks_which(library):
    _, messages = _resume(library, ADA, "renew_loans", "renew my books")

    def button(title, item):
        return {"title": title, "payload": f'/renew_loans{{"renew_item": "{item}"}}'}

    assert messages == [
        (
            "Which would you like to renew?\n"
            "• Dune (book): overdue since Wed 25 Nov (5 days)\n"
            "• Jurassic Park (dvd): due Wed 2 Dec\n"
            "• The Hobbit (book): due Thu 3 Dec\n"
            "• Pride and Prejudice (book): due Sun 6 Dec",
            [
                RENEW_ALL,
                button("Dune", "31234000010029"),
                button("Jurassic Park", "31234000010045"),
                button("The Hobbit", "31234000010037"),
                button("Pride and Prejudice", "31234000010011"),
            ],
        )
    ]
    for b in messages[0][1]:
        assert json.loads(b["payload"].removeprefix("/renew_loans"))["renew_item"]


def test_renewals_blocked_by_charges(library):
    _, messages = _resume(library, TOMAS, "renew_loans", "renew all")

    text, buttons = messages[0]
    lines = text.splitlines()
    assert lines[0] == "I renewed 0 of 2:"
    assert [line[:2] for line in lines[1:]] == ["✗ ", "✗ "]
    assert all("12.50" in line for line in lines[1:])
    assert buttons == [LIBRARIAN_BUTTON]


# --------------------------------------------------------------------------- holds and fines


def test_hold_status(library):
    _, messages = _resume(library, ADA, "hold_status")

    assert messages == [
        (
            "Your holds:\n"
            "• Animal Farm: ready to collect at Central until Sat 5 Dec\n"
            "• Harry Potter and the Philosopher's Stone: number 3 in the queue",
            [],
        )
    ]


def test_hold_in_transit(library):
    _, messages = _resume(library, TOMAS, "hold_status")

    assert messages == [("Your holds:\n• The Martian: on its way to Northside", [])]


def test_no_holds(library):
    _, messages = _resume(library, PRIYA, "hold_status")

    assert messages == [("You have no holds at the moment. Want me to search the catalogue?", [])]


def test_fines_that_block_borrowing(library):
    _, messages = _resume(library, TOMAS, "check_fines")

    assert messages == [
        (
            "You owe £12.50:\n"
            "• Lost item: The Nightingale: £9.99\n"
            "• Late return: Circe: £2.51\n"
            "Charges of £10 or more stop borrowing and renewals until they are paid.\n"
            "You can pay at any desk or online in your catalogue account.",
            [],
        )
    ]


def test_small_fines(library):
    _, messages = _resume(library, ADA, "check_fines")

    assert messages == [
        (
            "You owe £0.75:\n"
            "• Late return: The Martian: £0.75\n"
            "You can pay at any desk or online in your catalogue account.",
            [],
        )
    ]


def test_no_fines(library):
    _, messages = _resume(library, MEI, "check_fines")

    assert messages == [("Good news: you owe nothing.", [])]


def test_place_hold_on_the_chosen_record_at_the_chosen_branch(library):
    events, messages = _resume(
        library,
        PRIYA,
        "place_hold",
        '/place_hold{"record_id": "b0751"}',
        slots={"hold_record": "b0751", "hold_format": "book", "pickup_branch": "northside"},
    )

    assert messages == [
        (
            "Done: “Harry Potter and the Philosopher's Stone” (book) is reserved for you, to "
            "collect at Northside. You are number 4 in the queue; we'll tell you when it's ready.",
            [],
        )
    ]
    assert ("hold_record", None) in _slot_events(events)
    holds = aio_run(library.holds("p1005"))
    assert [(h.record_id, h.pickup_branch, h.queue_position) for h in holds] == [
        ("b0751", "northside", 4)
    ]


def test_place_hold_without_a_branch_asks_for_it_first(library):
    events, messages = _resume(
        library,
        PRIYA,
        "place_hold",
        "reserve it",
        slots={"hold_record": "b0751", "hold_format": "book"},
    )

    assert messages == []
    assert events[-1] == {
        "event": "slot",
        "timestamp": None,
        "name": "pickup_needed",
        "value": True,
    }
    assert aio_run(library.holds("p1005")) == []


def test_place_hold_without_a_record_asks_which_book(library):
    _, messages = _resume(library, PRIYA, "place_hold", "reserve something")

    assert messages == [("Which book would you like to reserve? Tell me its title or author.", [])]


def test_place_hold_refused(library):
    _, messages = _resume(
        library,
        PRIYA,
        "place_hold",
        "reserve it",
        slots={"hold_record": "b9999", "hold_format": "book", "pickup_branch": "central"},
    )

    assert [text.startswith("I couldn't place that hold: ") for text, _ in messages] == [True]


# --------------------------------------------------------------------------- failures


def test_system_down_apologises_and_clears_the_request(library, monkeypatch):
    signed_in = _sign_in(library, ADA)
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM_DOWN", "1")
    tracker = make_tracker(
        "", slots={**signed_in, "pending_request": {"intent": "check_loans", "text": ""}}
    )
    dispatcher = CollectingDispatcher()

    events = aio_run(ActionResumeAccountRequest().run(dispatcher, tracker, {}))

    assert _slot_events(events) == [("pending_request", None), ("pickup_needed", None)]
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (SYSTEM_DOWN, [LIBRARIAN_BUTTON])
    ]


@pytest.mark.parametrize("pin_check", [None, "locked", "unavailable"])
def test_not_verified_runs_nothing(library, pin_check):
    events, messages = _resume(
        library, None, "check_loans", slots={"pin_check": pin_check, "patron_id": None}
    )

    assert _slot_events(events) == [
        ("pending_request", None),
        ("pin_check", None),
        ("pickup_needed", None),
    ]
    assert messages == []


def test_unknown_patron_is_asked_to_sign_in_again(library):
    events, messages = _resume(
        library, None, "check_loans", slots={"pin_check": "verified", "patron_id": "p9999"}
    )

    assert _slot_events(events) == [
        ("pending_request", None),
        ("pickup_needed", None),
        ("pin_check", None),
        ("patron_id", None),
    ]
    assert messages == [
        ("Your sign-in has expired. Please ask again and I'll check your card.", [])
    ]


def test_no_pending_request_asks_what_to_do(library):
    events, messages = _resume(library, ADA, "greet")

    assert _slot_events(events) == [("pending_request", None), ("pickup_needed", None)]
    assert messages == [
        ("You're signed in. What would you like to do: loans, renewals, holds or fines?", [])
    ]
