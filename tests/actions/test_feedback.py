"""Feedback: reading the rating, the form's extraction, and storing it."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions._common import LIBRARIAN_BUTTON
from actions.feedback import ActionSaveFeedback, ValidateFeedbackForm, parse_rating
from crm_store.models import Conversation, Feedback
from tests.aio import run as aio_run

from .conftest import make_tracker

DOMAIN = {
    "forms": {"feedback_form": {"required_slots": ["feedback_rating", "feedback_comment"]}},
    "slots": {},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4),
        ("4/5", 4),
        ("4 / 5", 4),
        ("five stars", 5),
        ("3 out of 5", 3),
        ("I'd give it 2 stars", 2),
        ("one", 1),
        ("10", None),
        ("0", None),
        ("great", None),
        ("", None),
    ],
)
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


def _form(text, *, requested, entities=None, intent="inform"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text, intent=intent, entities=entities, slots={"requested_slot": requested}
    )
    events = aio_run(ValidateFeedbackForm().run(dispatcher, tracker, DOMAIN))
    return {e["name"]: e["value"] for e in events}, [m["text"] for m in dispatcher.messages]


def test_rating_from_the_button_entity():
    slots, texts = _form(
        '/give_feedback{"feedback_rating": "5"}',
        requested="feedback_rating",
        entities=[{"entity": "feedback_rating", "value": "5"}],
    )

    assert slots == {"feedback_rating": "5"}
    assert texts == []


def test_rating_typed():
    assert _form("I'd say 4 out of 5", requested="feedback_rating") == (
        {"feedback_rating": "4"},
        [],
    )


def test_typed_number_is_ignored_when_the_rating_is_not_asked_for():
    assert _form("4", requested="feedback_comment") == ({"feedback_comment": "4"}, [])


def test_bad_button_value_asks_again():
    slots, texts = _form(
        "/give_feedback",
        requested="feedback_rating",
        entities=[{"entity": "feedback_rating", "value": "9"}],
    )

    assert slots == {"feedback_rating": None}
    assert texts == ["Please choose a number from 1 (poor) to 5 (excellent)."]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("The staff were lovely", "inform", "The staff were lovely"),
        ("no thanks", "inform", "(none)"),
        ("Skip.", "inform", "(none)"),
        ("nah", "deny", "(none)"),
    ],
)
def test_comment(text, intent, expected):
    assert _form(text, requested="feedback_comment", intent=intent) == (
        {"feedback_comment": expected},
        [],
    )


def _save(rating, comment, sender_id="reader-1"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "", sender_id=sender_id, slots={"feedback_rating": rating, "feedback_comment": comment}
    )
    events = aio_run(ActionSaveFeedback().run(dispatcher, tracker, {}))
    assert [(e["name"], e["value"]) for e in events] == [
        ("feedback_rating", None),
        ("feedback_comment", None),
    ]
    return [(m["text"], m["buttons"]) for m in dispatcher.messages]


def _stored(store):
    with store.begin() as session:
        return [
            (c.sender_id, f.rating, f.comment)
            for f, c in session.execute(
                select(Feedback, Conversation)
                .join(Conversation, Conversation.id == Feedback.conversation_id)
                .order_by(Feedback.id)
            )
        ]


def test_save_a_good_rating(store):
    messages = _save("5", "Quick and helpful")

    assert _stored(store) == [("reader-1", 5, "Quick and helpful")]
    assert messages == [("Thank you for your feedback! It helps us improve.", [])]


def test_no_comment_is_stored_as_null(store):
    _save("3", "(none)")

    assert _stored(store) == [("reader-1", 3, None)]


def test_low_rating_gets_an_apology_and_a_librarian(store):
    messages = _save("2", "Couldn't renew")

    assert _stored(store) == [("reader-1", 2, "Couldn't renew")]
    assert messages == [
        (
            "I'm sorry we let you down. Thank you for telling us. "
            "Would you like a librarian to help put it right?",
            [LIBRARIAN_BUTTON, {"title": "No thanks", "payload": "/deny"}],
        )
    ]


def test_no_rating_stores_nothing(store):
    assert _save(None, None) == []
    assert _stored(store) == []


# --------------------------------------------------------------------------- abuse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this chatbot is useless", []),
        ("you stupid f***ing bot", []),
        ("i want to give feedback", ["feedback_rating", "feedback_comment"]),
        ("the toilets on the second floor are dirty", ["feedback_rating", "feedback_comment"]),
    ],
)
def test_abuse_mistaken_for_feedback_asks_for_no_rating(text, expected):
    tracker = make_tracker(text, intent="give_feedback")

    slots = aio_run(
        ValidateFeedbackForm().required_slots(
            ["feedback_rating", "feedback_comment"], CollectingDispatcher(), tracker, {}
        )
    )

    assert slots == expected


def test_abuse_mistaken_for_feedback_gets_a_calm_reply_and_stores_nothing(store):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("you useless piece of crap", intent="give_feedback")

    events = aio_run(ActionSaveFeedback().run(dispatcher, tracker, {}))

    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (
            "I'm sorry this has been frustrating. I'm here to help with anything "
            "library-related, and a librarian can take over if you'd prefer. What can I do "
            "for you?",
            [LIBRARIAN_BUTTON],
        )
    ]
    assert [(e["name"], e["value"]) for e in events] == [
        ("feedback_rating", None),
        ("feedback_comment", None),
    ]
    assert _stored(store) == []


def test_the_comment_is_stored_as_typed_not_as_cleaned_for_nlu():
    tracker = make_tracker(
        "found it <b>fast</b>", intent="inform", slots={"requested_slot": "feedback_comment"}
    )
    tracker.latest_message["text"] = "found it “fast”"

    result = aio_run(
        ValidateFeedbackForm().extract_feedback_comment(CollectingDispatcher(), tracker, {})
    )

    assert result == {"feedback_comment": "found it <b>fast</b>"}
