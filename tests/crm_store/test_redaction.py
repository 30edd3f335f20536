"""PINs are masked before Rasa's events are saved; card numbers and other events are not."""

from __future__ import annotations

import copy

import pytest

from crm_store.redaction import MASK, mask_pins, redact_event


@pytest.mark.parametrize(
    ("text", "requested", "expected"),
    [
        ("4821", True, MASK),
        ("it's 4821", True, f"it's {MASK}"),
        ("card is 21234000123456, pin 4821", False, f"card is 21234000123456, pin {MASK}"),
        ("My PIN: 4821", False, f"My PIN: {MASK}"),
        ("passcode 93817", False, f"passcode {MASK}"),
        ("4821", False, "4821"),  # not asked for, no "pin": a year, a count, anything
        ("21234000123456", True, "21234000123456"),
        ("I have 3 books", True, "I have 3 books"),
    ],
)
def test_mask_pins(text, requested, expected):
    assert mask_pins(text, requested) == expected


def test_spaced_card_number_is_not_masked():
    assert mask_pins("card 2123 4000 1234 56, pin 4821", False) == (
        f"card 2123 4000 1234 56, pin {MASK}"
    )


def test_pin_glued_to_the_word_is_masked():
    assert mask_pins("card 21234000123456 pin4821", False) == f"card 21234000123456 pin{MASK}"


def _user_event(text):
    return {
        "event": "user",
        "timestamp": 1764496800.0,
        "text": text,
        "parse_data": {"text": text, "intent": {"name": "inform", "confidence": 0.9}},
        "input_channel": "webchat",
    }


def test_redact_event_masks_text_and_parse_data():
    event = _user_event("card is 21234000123456, pin 4821")
    original = copy.deepcopy(event)

    redacted = redact_event(event, pin_requested=False)

    masked = f"card is 21234000123456, pin {MASK}"
    assert redacted == {
        **original,
        "text": masked,
        "parse_data": {**original["parse_data"], "text": masked},
    }
    assert event == original  # a copy, the input is untouched


def test_redact_event_when_the_pin_was_asked_for():
    redacted = redact_event(_user_event("4821"), pin_requested=True)

    assert (redacted["text"], redacted["parse_data"]["text"]) == (MASK, MASK)


def test_user_event_without_a_pin_is_returned_as_is():
    event = _user_event("21234000123456")

    assert redact_event(event, pin_requested=True) is event


@pytest.mark.parametrize(
    "event",
    [
        {"event": "bot", "text": "Your PIN 4821 is wrong"},
        {"event": "slot", "name": "pin_check", "value": "4821"},
        {"event": "user", "text": None, "parse_data": {"text": "pin 4821"}},
        {"event": "action", "name": "action_listen"},
    ],
)
def test_other_events_are_untouched(event):
    original = copy.deepcopy(event)

    assert redact_event(event, pin_requested=True) is event
    assert event == original


@pytest.mark.defects
def test_the_pin_is_masked_everywhere_in_the_parse_data_and_the_cleaned_text_is_kept():
    text = "my card is 21234000123456 and the pin is 4821. what time do you close? renew my books"
    event = _user_event(text)
    event["parse_data"] = {
        "text": "my card is 21234000123456 and the pin is 4821. when do you close? renew books",
        "intent": {"name": "multiple_requests", "confidence": 1.0},
        "requests": ["my card is 21234000123456 and the pin is 4821", "what time do you close"],
        "entities": [{"entity": "book_query", "value": "4821", "start": 41, "end": 45}],
    }

    redacted = redact_event(event, pin_requested=False)

    assert "4821" not in str(redacted)
    assert redacted["parse_data"]["requests"] == [
        f"my card is 21234000123456 and the pin is {MASK}",
        "what time do you close",
    ]
    assert redacted["parse_data"]["entities"][0] == {
        "entity": "book_query", "value": MASK, "start": 41, "end": 45,
    }  # fmt: skip
    assert redacted["parse_data"]["text"].endswith("renew books")  # the cleaned text, masked
    assert "21234000123456" in redacted["parse_data"]["text"]
