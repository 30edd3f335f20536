"""Foreign-language messages and messages holding several requests."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.triage import ActionHandleMultipleRequests, ActionNonEnglish
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


def test_several_requests_are_listed_with_one_button_each() -> None:
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
    aio_run(ActionHandleMultipleRequests().run(dispatcher, tracker_with(message), {}))
    [reply] = dispatcher.messages
    assert reply["text"].startswith("You've asked about 3 things:\n1. can you renew my books\n")
    assert [b["payload"] for b in reply["buttons"]] == parts


def test_a_single_request_asks_for_one_thing_at_a_time() -> None:
    dispatcher = CollectingDispatcher()
    aio_run(
        ActionHandleMultipleRequests().run(
            dispatcher, tracker_with({"text": "x", "requests": ["x"]}), {}
        )
    )
    assert dispatcher.messages[0]["text"].startswith("Could you tell me one thing at a time")
