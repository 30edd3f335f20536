"""The two-stage fallback: guesses first, then a librarian."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions._common import LIBRARIAN_BUTTON
from actions.fallback import ActionClarify, consecutive_fallbacks, sounds_frustrated
from tests.aio import run as aio_run

from .conftest import make_tracker

LEAVE = {"title": "Leave a message", "payload": "/leave_message"}


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "You're STUPID",
        "what a waste of my time",
        "you don't understand",
        "that's not what I asked",
        "why is this so frustrating",
        "I WANT TO RENEW MY BOOKS",
        "renew it!!!",
        "where is it???",
    ],
)
def test_frustrated(text):
    assert sounds_frustrated(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "can I renew my books",
        "OK",
        "NASA BOOKS",  # short capitals are not shouting
        "thanks!",
        "is the library open?",
        "I want to renew My Books",
    ],
)
def test_not_frustrated(text):
    assert sounds_frustrated(text) is False


def _user(intent):
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


def _bot():
    return {"event": "bot", "text": "Sorry?"}


def test_consecutive_fallbacks_counts_the_latest_run():
    tracker = make_tracker("blah", intent="nlu_fallback")
    tracker.events = [
        _user("nlu_fallback"),
        _bot(),
        _user("greet"),
        _bot(),
        _user("nlu_fallback"),
        _bot(),
        _user("nlu_fallback"),
        {"event": "action", "name": "action_clarify"},
    ]

    assert consecutive_fallbacks(tracker) == 2


def test_consecutive_fallbacks_zero_after_an_understood_message():
    tracker = make_tracker("hi", intent="greet", events=[_user("nlu_fallback"), _bot()])
    tracker.events = [_user("nlu_fallback"), _bot(), _user("greet")]

    assert consecutive_fallbacks(tracker) == 0
    tracker.events = []
    assert consecutive_fallbacks(tracker) == 0


def _clarify(text, ranking, earlier=()):
    tracker = make_tracker(text, intent="nlu_fallback", intent_ranking=ranking)
    tracker.events = [*earlier, _user("nlu_fallback")]
    dispatcher = CollectingDispatcher()
    events = aio_run(ActionClarify().run(dispatcher, tracker, {}))
    assert events == []
    return [(m["text"], m["buttons"]) for m in dispatcher.messages]


RANKING = [
    {"name": "nlu_fallback", "confidence": 0.3},
    {"name": "renew_loans", "confidence": 0.28},
    {"name": "request_human", "confidence": 0.2},
    {"name": "greet", "confidence": 0.1},
    {"name": "check_loans", "confidence": 0.08},
    {"name": "library_hours", "confidence": 0.05},
    {"name": "check_fines", "confidence": 0.04},
]


def test_first_fallback_offers_the_top_guesses():
    messages = _clarify("renw bks", RANKING)

    assert messages == [
        (
            "Sorry, I'm not sure what you mean. Did you mean one of these?",
            [
                {"title": "Renew my books", "payload": "/renew_loans"},
                {"title": "My loans", "payload": "/check_loans"},
                {"title": "Opening hours", "payload": "/library_hours"},
                LIBRARIAN_BUTTON,
            ],
        )
    ]


def test_first_fallback_without_guesses_offers_the_librarian():
    assert _clarify("qwerty", []) == [
        ("Sorry, I'm not sure what you mean. Did you mean one of these?", [LIBRARIAN_BUTTON])
    ]


def test_second_fallback_in_a_row_offers_a_librarian():
    messages = _clarify("renw bks", RANKING, earlier=[_user("nlu_fallback"), _bot()])

    assert messages == [
        (
            "Sorry, I'm still not getting it. Would you like a librarian to help?",
            [LIBRARIAN_BUTTON, LEAVE],
        )
    ]


def test_frustration_offers_a_librarian_at_once():
    messages = _clarify("this is useless", RANKING)

    assert messages == [
        (
            "I'm sorry this is frustrating. A librarian can take over right now.",
            [LIBRARIAN_BUTTON, LEAVE],
        )
    ]


def test_abuse_gets_a_calm_reply_not_a_guess():
    messages = _clarify("you stupid bot, shut up", RANKING)

    assert messages == [
        (
            "I'm sorry this has been frustrating. I'm here to help with anything "
            "library-related, and a librarian can take over if you'd prefer. What can I do "
            "for you?",
            [LIBRARIAN_BUTTON],
        )
    ]
