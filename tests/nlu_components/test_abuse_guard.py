"""AbuseGuard: swearing and insults become the intent ``abuse`` unless they carry a request."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.abuse_guard import AbuseGuard, is_abusive


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("you useless f***ing bot", True),
        ("this chatbot is useless", True),
        ("what a load of crap", True),
        ("shut up", True),
        ("FFS just renew my books", True),
        ("this is useless", False),  # frustration, handled by the fallback
        ("do you have Moby Dick", False),
        ("books about Arsenal football club", False),
        ("the book is stupidly good", False),
        ("Scunthorpe branch opening hours", False),
    ],
)
def test_is_abusive(text, expected):
    assert is_abusive(text) is expected


def parsed(text: str, intent: str, confidence: float) -> Message:
    message = Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
    )
    AbuseGuard(AbuseGuard.get_default_config()).process([message])
    return message


def test_abuse_taken_for_feedback_becomes_abuse():
    message = parsed("you stupid bot", "give_feedback", 0.9)

    assert message.get("intent") == {"name": "abuse", "confidence": 1.0}
    assert [e["name"] for e in message.get("intent_ranking")] == ["abuse", "give_feedback"]


def test_a_confident_request_with_swearing_keeps_its_intent():
    assert parsed("FFS just renew my books", "renew_loans", 0.93).get("intent")["name"] == (
        "renew_loans"
    )


def test_an_unsure_request_with_swearing_becomes_abuse():
    assert parsed("f*** this crap", "renew_loans", 0.3).get("intent")["name"] == "abuse"


def test_polite_messages_are_untouched():
    assert parsed("i want to give feedback", "give_feedback", 0.9).get("intent")["name"] == (
        "give_feedback"
    )


def test_asking_rudely_for_a_person_still_gets_a_person():
    assert parsed("get me a f***ing human", "request_human", 0.8).get("intent")["name"] == (
        "request_human"
    )
