"""The hold flow: the work and its formats, the format choice, the pickup branch, the hold."""

from __future__ import annotations

import time

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.holds import (
    ActionAskHoldFormat,
    ActionAskPickupBranch,
    ActionPlaceHold,
    ActionStartHold,
    ValidateHoldFormatForm,
    ValidatePickupForm,
    choose_format,
)
from tests.aio import run as aio_run

from .conftest import PRIYA, make_tracker


def _slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def _start(text, entities=()):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="place_hold", entities=list(entities))
    events = aio_run(ActionStartHold().run(dispatcher, tracker, {}))
    return events, [(m["text"], m["buttons"]) for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("text", "available", "expected"),
    [
        ("not the ebook", ["book", "ebook"], ("book", ["book"])),
        ("the audiobook please", ["book", "audiobook"], ("audiobook", ["book", "audiobook"])),
        (
            "paperback",
            ["book", "large_print", "audiobook"],
            ("book", ["book", "large_print", "audiobook"]),
        ),
        ("the book", ["book", "ebook"], ("book", ["book", "ebook"])),
        (
            "large print",
            ["book", "large_print", "audiobook"],
            ("large_print", ["book", "large_print", "audiobook"]),
        ),
        (
            "not the audiobook",
            ["book", "large_print", "audiobook"],
            (None, ["book", "large_print"]),
        ),
        ("the paperback, not the ebook", ["book", "ebook"], ("book", ["book", "ebook"])),
        ("no thanks", ["book", "ebook"], (None, ["book", "ebook"])),
        ("dvd", ["book", "ebook"], (None, ["book", "ebook"])),
    ],
)
def test_choose_format(text, available, expected):
    assert choose_format(text, [], available) == expected


def test_choose_format_reads_the_nlu_entity_with_its_role():
    entities = [{"entity": "book_format", "value": "ebook", "role": "excluded"}]

    assert choose_format("nah", entities, ["book", "ebook"]) == ("book", ["book"])


def test_a_title_with_commas_in_two_formats_needs_a_choice(library):
    events, messages = _start("reserve Thinking, Fast and Slow please")

    assert messages == []
    assert _slots(events) | {} == {
        "pending_request": _slots(events)["pending_request"],
        "hold_record": "b0978",
        "hold_title": "Thinking, Fast and Slow",
        "hold_formats": ["book", "audiobook"],
        "hold_format": None,
        "pickup_branch": None,
        "pin_check": None,
        "verified_at": None,
        "patron_id": None,
    }


def test_the_reserve_button_names_the_record_and_its_title(library):
    events, _ = _start(
        '/place_hold{"record_id": "b0526", "book_query": "The Thursday Murder Club"}',
        [
            {"entity": "record_id", "value": "b0526"},
            {"entity": "book_query", "value": "The Thursday Murder Club"},
        ],
    )

    slots = _slots(events)
    assert (slots["hold_record"], slots["hold_formats"], slots["hold_format"]) == (
        "b0526",
        ["book", "large_print", "audiobook"],
        None,
    )


def test_a_format_and_branch_named_up_front_are_kept(library):
    events, _ = _start(
        "can i reserve the audiobook of Tomorrow, and Tomorrow, and Tomorrow at northside",
        [{"entity": "branch", "value": "northside"}],
    )

    slots = _slots(events)
    assert (slots["hold_record"], slots["hold_format"], slots["pickup_branch"]) == (
        "b0358",
        "audiobook",
        "northside",
    )


def test_a_single_format_needs_no_question(library):
    events, _ = _start("reserve Cry, the Beloved Country by Alan Paton")

    slots = _slots(events)
    assert (slots["hold_title"], slots["hold_formats"], slots["hold_format"]) == (
        "Cry, the Beloved Country",
        ["book"],
        "book",
    )


def test_an_unknown_title_stops_the_flow(library):
    events, messages = _start("reserve qzxv wqpl")

    assert messages == [
        (
            "I couldn't find “qzxv wqpl” in the catalogue. Check the spelling, or try the "
            "author's name.",
            [],
        )
    ]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}


def test_the_format_question_lists_what_is_left():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "", slots={"hold_title": "Normal People", "hold_formats": ["book", "ebook"]}
    )

    aio_run(ActionAskHoldFormat().run(dispatcher, tracker, {}))

    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (
            "“Normal People” comes as book or ebook. Which would you like?",
            [{"title": "Book", "payload": "book"}, {"title": "Ebook", "payload": "ebook"}],
        )
    ]


def _extract_format(text, formats, intent="inform"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text,
        intent=intent,
        slots={"requested_slot": "hold_format", "hold_formats": formats, "hold_title": "X"},
    )
    result = aio_run(ValidateHoldFormatForm().extract_hold_format(dispatcher, tracker, {}))
    return result, [m["text"] for m in dispatcher.messages]


def test_not_the_ebook_is_a_choice_even_when_classified_as_deny():
    assert _extract_format("not the ebook", ["book", "ebook"], intent="deny") == (
        {"hold_format": "book"},
        [],
    )


def test_ruling_out_one_of_three_narrows_the_question():
    assert _extract_format("not the audiobook", ["book", "large_print", "audiobook"]) == (
        {"hold_format": None, "hold_formats": ["book", "large_print"]},
        [],
    )


def test_a_format_we_do_not_have_is_explained():
    assert _extract_format("the dvd", ["book", "ebook"]) == (
        {"hold_format": None},
        ["Sorry, we don't have “X” as DVD."],
    )


def test_a_plain_no_is_not_a_format_so_the_form_can_stop():
    assert _extract_format("no", ["book", "ebook"], intent="deny") == ({}, [])


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("Northside", [], "northside"),
        ("the main library please", [], "central"),
        ("riverside", [{"entity": "branch", "value": "riverside"}], "riverside"),
        ("my home branch", [], "northside"),
        ("whenever", [], None),
    ],
)
def test_pickup_branch(text, entities, expected):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text,
        entities=entities,
        slots={"requested_slot": "pickup_branch", "home_branch": "northside"},
    )

    result = aio_run(ValidatePickupForm().extract_pickup_branch(dispatcher, tracker, {}))

    assert result == ({"pickup_branch": expected} if expected else {})


def test_the_branch_question_puts_the_home_branch_first():
    dispatcher = CollectingDispatcher()

    aio_run(
        ActionAskPickupBranch().run(
            dispatcher, make_tracker("", slots={"home_branch": "riverside"}), {}
        )
    )

    [reply] = dispatcher.messages
    assert reply["text"] == (
        "Which branch would you like to collect it from? Your home branch is Riverside."
    )
    assert [b["title"] for b in reply["buttons"]] == ["Riverside", "Central", "Northside"]


def test_the_hold_is_placed_with_its_queue_position(library):
    patron = aio_run(library.authenticate(*PRIYA))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "Central",
        slots={
            "patron_id": patron.patron_id,
            "pin_check": "verified",
            "verified_at": time.time(),
            "hold_record": "b0613",
            "hold_title": "The Hobbit",
            "hold_format": "book",
            "pickup_branch": "central",
        },
    )

    events = aio_run(ActionPlaceHold().run(dispatcher, tracker, {}))

    assert [m["text"] for m in dispatcher.messages] == [
        "Done: “The Hobbit” (book) is reserved for you, to collect at Central. "
        "You are number 3 in the queue; we'll tell you when it's ready."
    ]
    assert all(e["value"] is None for e in events)


def test_an_ebook_hold_needs_no_branch(library):
    patron = aio_run(library.authenticate(*PRIYA))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "",
        slots={
            "patron_id": patron.patron_id,
            "pin_check": "verified",
            "verified_at": time.time(),
            "hold_record": "b0359",
            "hold_format": "audiobook",
        },
    )

    aio_run(ActionPlaceHold().run(dispatcher, tracker, {}))

    [text] = [m["text"] for m in dispatcher.messages]
    assert text.startswith(
        "Done: “Tomorrow, and Tomorrow, and Tomorrow” (audiobook) is reserved "
        "for you, it will be lent to you online."
    )


def test_an_older_reserve_button_without_a_title_holds_its_record(library):
    events, messages = _start(
        '/place_hold{"record_id": "b0001", "book_format": "book"}',
        [{"entity": "record_id", "value": "b0001"}, {"entity": "book_format", "value": "book"}],
    )

    assert messages == []
    slots = _slots(events)
    assert (slots["hold_record"], slots["hold_format"]) == ("b0001", "book")
