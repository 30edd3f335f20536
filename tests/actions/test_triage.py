"""Foreign-language messages and messages holding several requests."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import hours
from actions._common import card_from_slot
from actions.triage import ActionHandleMultipleRequests, ActionNonEnglish, is_credentials
from tests.aio import run as aio_run


def tracker_with(message: dict) -> Tracker:
    return Tracker("reader-1", {}, message, [], False, None, {}, "action_listen")


def test_non_english_reply_is_bilingual_and_offers_a_librarian() -> None:
    dispatcher = CollectingDispatcher()
    message = {
        "text": "我想续借我的书",
        "intent": {"name": "non_english"},
        "language": {"code": "zh", "confidence": 1.0},
    }
    assert aio_run(ActionNonEnglish().run(dispatcher, tracker_with(message), {})) == []
    [reply] = dispatcher.messages
    first, second = reply["text"].split("\n", 1)
    assert first.startswith("Sorry, this service works in English.")
    assert "hello@riverbend-library.example" in first
    assert any("\u4e00" <= ch <= "\u9fff" for ch in second)  # the same sentence in Chinese
    assert [b["payload"] for b in reply["buttons"]] == ["/request_human"]


SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def sunday(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hours, "clock", lambda tz: SUNDAY_NOON.astimezone(tz))


def test_several_requests_are_acted_on_and_the_rest_labelled(sunday) -> None:
    dispatcher = CollectingDispatcher()
    parts = [
        "can you renew my books",
        "what time do you close today?",
        "is there parking at riverside",
    ]
    message = {
        "text": " and also ".join(parts),
        "intent": {"name": "multiple_requests"},
        "requests": parts,
    }
    events = aio_run(ActionHandleMultipleRequests().run(dispatcher, tracker_with(message), {}))

    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0].startswith("Today, Sunday 29 November:\n- Central is open now until 16:00")
    assert texts[1:] == [
        "You also asked about: Parking. Press it when you're ready.",
        "Now, to renew your books I need to sign you in.",
    ]
    assert dispatcher.messages[1]["buttons"] == [
        {"title": "Parking", "payload": "is there parking at riverside"}
    ]
    assert events == [
        {
            "event": "slot",
            "timestamp": None,
            "name": "pending_request",
            "value": {"intent": "renew_loans", "text": "can you renew my books", "entities": []},
        },
        {"event": "followup", "timestamp": None, "name": "identify_form"},
    ]


def test_long_requests_get_short_labels_not_their_paragraphs(sunday) -> None:
    dispatcher = CollectingDispatcher()
    parts = [
        "I was wondering whether it is at all possible to print a few pages of my thesis "
        "from my own laptop when I come in next week",
        "and also whether there is somewhere to park the car near Central",
        "my grandson would love to know whether you run any coding clubs for children",
    ]
    message = {"text": " ".join(parts), "requests": parts}
    aio_run(ActionHandleMultipleRequests().run(dispatcher, tracker_with(message), {}))

    [reply] = dispatcher.messages
    assert reply["text"] == ("You asked about: Printing, Parking, Events. Which next?")
    assert [b["title"] for b in reply["buttons"]] == [
        "Printing",
        "Parking",
        "Events",
    ]
    assert [b["payload"] for b in reply["buttons"]] == parts


def test_card_and_pin_in_the_message_sign_in_and_the_renewal_runs(library, store, sunday) -> None:
    dispatcher = CollectingDispatcher()
    parts = ["card 21234000567890 pin 1122", "when do you close today", "renew my books"]
    message = {"text": ". ".join(parts), "requests": parts}
    events = aio_run(ActionHandleMultipleRequests().run(dispatcher, tracker_with(message), {}))

    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0] == "Thanks, Priya, you're signed in."
    assert texts[1].startswith("Today, Sunday 29 November:")
    assert texts[2] == "You have nothing on loan, so there is nothing to renew."
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert (card_from_slot(slots["card_number"]), slots["pin_check"]) == (
        "21234000567890",
        "verified",
    )
    assert "1122" not in json.dumps(events)
    assert "21234000567890" not in json.dumps(events)  # the slot holds the card sealed


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("card 21234000567890 pin 1122", True),
        ("my card number is 2123 4000 5678 90", True),
        ("renew my books, card 21234000567890", False),
        ("what time do you close", False),
    ],
)
def test_is_credentials(part: str, expected: bool) -> None:
    assert is_credentials(part) is expected


def test_a_single_request_asks_for_one_thing_at_a_time() -> None:
    dispatcher = CollectingDispatcher()
    aio_run(
        ActionHandleMultipleRequests().run(
            dispatcher, tracker_with({"text": "x", "requests": ["x"]}), {}
        )
    )
    assert dispatcher.messages[0]["text"].startswith("Could you tell me one thing at a time")
