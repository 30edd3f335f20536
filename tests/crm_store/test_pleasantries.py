"""The learning loop's small-talk filter on librarians' messages as they write them."""

from __future__ import annotations

import pytest

from crm_store.pleasantries import answer_text, is_pleasantry, strip_pleasantries


@pytest.mark.parametrize(
    "message",
    [
        "Hi Ada, Sam here \u2014 let me check.",
        "Hello there! \U0001f44b I'm Sam, one of the librarians here.",
        "Good morning Mr. Smith!",
        "Hi, this is Sam from the Central Library team.",
        "One moment please :)",
        "Let me check that for you...",
        "Bear with me, Ada.",
        "Sure, let me look into that.",
        "Thanks for your patience!",
        "Anything else?",
        "Is there anything else I can help you with today?",
        "You\u2019re welcome, have a nice day!",
        "**Thank you** so much, Ada \U0001f60a",
        "No problem at all. Take care!",
        "Bye!",
        "Hope this helps, Ada!",
        "\U0001f44d",
    ],
)
def test_a_message_of_only_pleasantries_is_dropped(message: str) -> None:
    assert (is_pleasantry(message), strip_pleasantries(message)) == (True, "")


@pytest.mark.parametrize(
    "message",
    [
        "The library opens at 9.",
        "Sure.",
        "OK",
        "Of course! You can renew online.",
        "I'm sorry, we don't lend telescopes.",
        "It's Monday at 9 am.",
        "Details here: https://library.example.org/telescopes",
        "Thanks to a grant, the makerspace is free.",
        "hi ada, fines are 20p a day",
        "Opening hours: 9\u20135, Monday to Friday.",
        "Ada, your hold is ready.",
    ],
)
def test_a_message_without_a_leading_pleasantry_is_kept_verbatim(message: str) -> None:
    assert (is_pleasantry(message), strip_pleasantries(message)) == (False, message)


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("Hi Ada! The library opens at 9.", "The library opens at 9."),
        ("Hi, Ada, the library opens at 9.", "The library opens at 9."),
        ("Good morning Mr. Smith. Your card was renewed.", "Your card was renewed."),
        ("Dear Dr. Jones, fines are 20p a day.", "Fines are 20p a day."),
        (
            "Hi, this is Sam from the Central Library team. Yes, we lend telescopes.",
            "Yes, we lend telescopes.",
        ),
        (
            "Thank you so much for your patience, Ada! Your hold is *ready* \U0001f4da",
            "Your hold is *ready* \U0001f4da",
        ),
        ("Hello \U0001f44b \u2014 rooms are booked at the desk.", "Rooms are booked at the desk."),
        ("Welcome back! Fines cleared. Have a nice day!", "Fines cleared. Have a nice day!"),
        ("Sure, let me check. Yes we do.", "Sure, let me check. Yes we do."),
    ],
)  # fmt: skip
def test_a_leading_greeting_is_cut_and_the_rest_kept(message: str, kept: str) -> None:
    assert strip_pleasantries(message) == kept


def test_a_transcript_keeps_the_substance_in_order() -> None:
    transcript = [
        "Hi Ada, Sam here \u2014 let me check.",
        "One moment please :)",
        "Thanks for waiting! We lend telescopes for a week.",
        "  ",
        "You need a card that is a year old.\nBook at the desk.",
        "Anything else?",
        "You're welcome, have a nice day! \U0001f44b",
    ]
    assert answer_text(transcript) == (
        "We lend telescopes for a week.\n\nYou need a card that is a year old.\nBook at the desk."
    )


def test_when_everything_is_a_pleasantry_the_answer_is_unfiltered() -> None:
    assert answer_text(["Hi Ada!", " Let me check. ", "Anything else?", ""]) == (
        "Hi Ada!\n\nLet me check.\n\nAnything else?"
    )


def test_no_message_gives_no_answer() -> None:
    assert answer_text([]) == ""
