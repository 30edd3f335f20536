"""Identification: reading card and PIN, the sign-in form, and linking the reader store."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions._common import (
    LIBRARIAN_BUTTON,
    VERIFICATION_TTL_SECONDS,
    card_from_slot,
    seal_card_slot,
    slot_key,
)
from actions.identity import (
    CARD_AGAIN,
    ActionStartAccountRequest,
    ValidateIdentifyForm,
    find_card_number,
    find_pin,
)
from crm_store.card_seal import derive_key, seal_card
from crm_store.models import ChannelIdentity, Conversation, Reader
from tests.aio import run as aio_run

from .conftest import ADA, GRACE, make_tracker

DOMAIN = {
    "forms": {"identify_form": {"required_slots": ["card_number", "pin_check"]}},
    "slots": {
        "card_number": {"type": "text", "mappings": [{"type": "custom"}]},
        "pin_check": {"type": "text", "mappings": [{"type": "custom"}]},
        "requested_slot": {"type": "any", "mappings": [{"type": "custom"}]},
    },
}


# --------------------------------------------------------------------------- find_card_number


@pytest.mark.parametrize(
    "text",
    [
        "21234000123456",
        "my card is 21234000123456",
        "2123 4000 1234 56",
        "2123-4000-1234-56",
        "card: 21234-000-123456 thanks",
        "card is 21234000123456, pin 4821",
    ],
)
def test_card_number_found(text):
    assert find_card_number(text) == "21234000123456"


@pytest.mark.parametrize("text", ["4821", "my card is 2123400012345", "212340001234567", "hello"])
def test_no_card_number(text):
    assert find_card_number(text) is None


def test_card_number_followed_by_pin_after_a_space():
    assert find_card_number("21234000123456 4821") == "21234000123456"


# --------------------------------------------------------------------------- find_pin


def test_pin_after_the_word_pin_is_found_even_unasked():
    assert find_pin("card is 21234000123456, pin 4821", pin_requested=False) == "4821"
    assert find_pin("My PIN is 4821", pin_requested=False) == "4821"
    assert find_pin("passcode: 93817", pin_requested=False) == "93817"
    # Read as a PIN here, which is why crm_store.redaction must mask it too.
    assert find_pin("card 21234000123456 pin4821", pin_requested=False) == "4821"


def test_bare_number_counts_only_when_the_pin_was_asked_for():
    assert find_pin("4821", pin_requested=True) == "4821"
    assert find_pin("it's 4821", pin_requested=True) == "4821"
    assert find_pin("4821", pin_requested=False) is None


def test_card_number_is_never_taken_as_a_pin():
    assert find_pin("21234000123456", pin_requested=True) is None
    assert find_pin("2123 4000 1234 56", pin_requested=True) is None
    assert find_pin("pin for card 21234000123456", pin_requested=True) is None


# --------------------------------------------------------------------------- the form


def _run_form(text, *, slots=None, sender_id="reader-1", channel="webchat"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, slots=slots, sender_id=sender_id, channel=channel)
    events = aio_run(ValidateIdentifyForm().run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


def _slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def _opened(slots):
    """``slots`` with a sealed ``card_number`` opened; fails if it was set in clear."""
    card = slots.get("card_number")
    if card is None:
        return slots
    assert re.fullmatch(r"sealed-card/1:\*{10}\d{4}:[\w=-]+", card), card  # never in clear
    return {**slots, "card_number": card_from_slot(card)}


def _another_keys_seal(card):
    """``card`` sealed under a key the action server no longer has (it was rotated)."""
    return seal_card(card, derive_key("the key before the rotation, long enough"))


def test_card_and_pin_in_one_message_sign_in(library, store):
    before = time.time()
    events, messages = _run_form("card is 21234000123456, pin 4821")

    slots = _opened(_slots(events))
    verified_at = slots.pop("verified_at")
    assert slots == {
        "card_number": "21234000123456",
        "pin_check": "verified",
        "patron_id": "p1001",
        "reader_name": "Ada",
        "home_branch": "central",
    }
    assert before <= verified_at <= time.time()
    assert [m["text"] for m in messages] == ["Thanks, Ada, you're signed in."]
    assert "4821" not in json.dumps(events) + json.dumps(messages)
    assert ADA[0] not in json.dumps(events)  # the card slot is sealed


def test_pin_alone_when_asked_for_signs_in(library, store):
    events, messages = _run_form(
        "4821", slots={"card_number": seal_card_slot(ADA[0]), "requested_slot": "pin_check"}
    )

    assert _slots(events)["pin_check"] == "verified"
    assert [m["text"] for m in messages] == ["Thanks, Ada, you're signed in."]
    assert "4821" not in json.dumps(events) + json.dumps(messages)


def test_wrong_pin_says_how_many_tries_are_left(library, store):
    events, messages = _run_form(
        "1111", slots={"card_number": seal_card_slot(ADA[0]), "requested_slot": "pin_check"}
    )

    assert _slots(events) == {"pin_check": None}
    assert [m["text"] for m in messages] == [
        "That PIN doesn't match this card. You have 4 tries left before the card is locked."
    ]
    assert "1111" not in json.dumps(events) + json.dumps(messages)


def test_unknown_card(library, store):
    events, messages = _run_form("card 21234000999999 pin 1234")

    assert _slots(events) == {"card_number": None, "pin_check": None}
    assert [m["text"] for m in messages] == [
        "I can't find a library card with that number. Please check it and type it again."
    ]


def test_card_with_the_wrong_number_of_digits(library, store):
    events, messages = _run_form("212340001234", slots={"requested_slot": "card_number"})

    assert _slots(events) == {"card_number": None}
    assert [m["text"] for m in messages] == [
        "That doesn't look like a library card number: it has 12 digits, and card numbers "
        "have 14. You'll find it under the barcode on the back of your card."
    ]


def test_five_wrong_pins_lock_the_card(library, store):
    texts = []
    for _ in range(5):
        events, messages = _run_form(
            "0000", slots={"card_number": seal_card_slot(ADA[0]), "requested_slot": "pin_check"}
        )
        texts += [m["text"] for m in messages]

    assert texts[:4] == [
        f"That PIN doesn't match this card. You have {n} {'try' if n == 1 else 'tries'} left "
        "before the card is locked."
        for n in (4, 3, 2, 1)
    ]
    assert _slots(events) == {"pin_check": "locked"}
    assert messages == [
        {
            **messages[0],
            "text": "This card is locked after too many wrong PINs. A librarian can unlock it "
            "for you, or you can reset your PIN at any desk.",
            "buttons": [LIBRARIAN_BUTTON],
        }
    ]

    # Even the right PIN is refused now.
    events, _ = _run_form(
        ADA[1], slots={"card_number": seal_card_slot(ADA[0]), "requested_slot": "pin_check"}
    )
    assert _slots(events) == {"pin_check": "locked"}


def test_locked_card_is_refused_with_the_right_pin(library, store):
    events, messages = _run_form(f"card {GRACE[0]} pin {GRACE[1]}")

    assert _opened(_slots(events)) == {"card_number": GRACE[0], "pin_check": "locked"}
    assert [m["buttons"] for m in messages] == [[LIBRARIAN_BUTTON]]


def test_library_system_down(library_down, store):
    events, messages = _run_form("card is 21234000123456, pin 4821")

    assert _opened(_slots(events)) == {"card_number": ADA[0], "pin_check": "unavailable"}
    assert [(m["text"], m["buttons"]) for m in messages] == [
        (
            "Sorry, the library system isn't answering right now, so I can't reach your "
            "account. Please try again in a few minutes, or a librarian can help you now.",
            [LIBRARIAN_BUTTON],
        )
    ]
    assert "4821" not in json.dumps(events) + json.dumps(messages)


def test_sign_in_links_the_channel_identity_to_the_reader(library, store):
    _run_form("card is 21234000123456, pin 4821", sender_id="web-abc", channel="webchat")

    with store.begin() as session:
        readers = [
            (r.card_number, r.display_name, r.email, r.verified_at is not None)
            for r in session.execute(select(Reader)).scalars()
        ]
        identities = [
            (i.channel, i.external_id, i.reader.card_number)
            for i in session.execute(select(ChannelIdentity)).scalars()
        ]
        conversation = session.execute(select(Conversation)).scalar_one()
        conversation_reader = conversation.reader_id
        reader_id = session.execute(select(Reader.id)).scalar_one()
    assert readers == [("21234000123456", "Ada Okafor", "ada.okafor@example.org", True)]
    assert identities == [("webchat", "web-abc", "21234000123456")]
    assert conversation_reader == reader_id


def test_same_card_on_two_channels_is_one_reader_with_two_identities(library, store):
    _run_form("card is 21234000123456, pin 4821", sender_id="web-abc", channel="webchat")
    _run_form("card is 21234000123456, pin 4821", sender_id="777001", channel="telegram")

    with store.begin() as session:
        readers = session.execute(select(Reader.card_number)).scalars().all()
        identities = sorted(
            (i.channel, i.external_id, i.reader.card_number)
            for i in session.execute(select(ChannelIdentity)).scalars()
        )
    assert readers == ["21234000123456"]
    assert identities == [
        ("telegram", "777001", "21234000123456"),
        ("webchat", "web-abc", "21234000123456"),
    ]


# --------------------------------------------------------------------------- start request


def _start(text, *, intent="check_loans", entities=None, slots=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent=intent, entities=entities, slots=slots)
    events = aio_run(ActionStartAccountRequest().run(dispatcher, tracker, {}))
    return events, [m["text"] for m in dispatcher.messages]


def test_start_request_stores_the_pending_request_and_keeps_a_fresh_sign_in():
    events, texts = _start(
        "renew the hobbit",
        intent="renew_loans",
        entities=[{"entity": "renew_item", "value": "31234000010037", "start": 0, "end": 5}],
        slots={"pin_check": "verified", "verified_at": time.time() - 60, "patron_id": "p1001"},
    )

    assert _slots(events) == {
        "pending_request": {
            "intent": "renew_loans",
            "text": "renew the hobbit",
            "entities": [{"entity": "renew_item", "value": "31234000010037"}],
        }
    }
    assert texts == []


def test_a_pin_typed_with_the_request_is_not_kept_in_the_pending_request():
    events, _ = _start("what do I have out, card 21234000123456 pin 4821")

    assert _slots(events)["pending_request"]["text"] == (
        "what do I have out, card 21234000123456 pin ••••"
    )


STALE_SIGN_IN_RESET = {
    "pending_request": {"intent": "check_loans", "text": "what do I have out", "entities": []},
    "pin_check": None,
    "verified_at": None,
    "patron_id": None,
}
"""The slots a request after an expired sign-in sets, whatever the card slot holds."""


def _start_after_a_stale_sign_in(card_slot: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``what do I have out`` from a reader signed in longer ago than the TTL allows."""
    stale = time.time() - VERIFICATION_TTL_SECONDS - 1
    return _start(
        "what do I have out",
        slots={
            "pin_check": "verified",
            "verified_at": stale,
            "patron_id": "p1001",
            "card_number": card_slot,
        },
    )


def test_start_request_resets_a_stale_sign_in_and_asks_for_the_pin_again():
    events, texts = _start_after_a_stale_sign_in(seal_card_slot(ADA[0]))

    assert _slots(events) == STALE_SIGN_IN_RESET
    assert texts == ["For your security, please confirm your PIN again to continue."]


def test_start_request_without_a_card_yet_asks_nothing():
    events, texts = _start("my loans please")

    assert _slots(events)["pin_check"] is None
    assert texts == []


# --------------------------------------------------------------------------- the sealed card


def test_a_valid_card_is_sealed_and_revalidating_the_sealed_value_keeps_it():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("21234000123456", slots={"requested_slot": "card_number"})
    form = ValidateIdentifyForm()

    first = form.validate_card_number("21234000123456", dispatcher, tracker, DOMAIN)
    again = form.validate_card_number(first["card_number"], dispatcher, tracker, DOMAIN)

    assert _opened(first) == {"card_number": ADA[0]}
    assert _opened(again) == {"card_number": ADA[0]}
    assert dispatcher.messages == []


def test_a_card_sealed_under_a_rotated_key_is_asked_for_again(library, store):
    events, messages = _run_form(
        ADA[1], slots={"card_number": _another_keys_seal(ADA[0]), "requested_slot": "pin_check"}
    )

    assert _slots(events) == {"card_number": None, "pin_check": None}
    assert [m["text"] for m in messages] == [CARD_AGAIN]
    # Typed again, the card signs the reader in.
    events, messages = _run_form(f"card {ADA[0]} pin {ADA[1]}")
    assert _opened(_slots(events))["pin_check"] == "verified"


def test_a_stale_sign_in_with_a_card_that_no_longer_opens_forgets_the_card():
    events, texts = _start_after_a_stale_sign_in(_another_keys_seal(ADA[0]))

    assert _slots(events) == {**STALE_SIGN_IN_RESET, "card_number": None}
    assert texts == []  # no "confirm your PIN": the form asks for the card first


def test_the_slot_key_comes_from_ric_slot_key_else_from_the_action_servers_token(monkeypatch):
    monkeypatch.setenv("RIC_ACTIONS_TOKEN", "the action server's token, as generated")
    monkeypatch.delenv("RIC_SLOT_KEY", raising=False)
    slot_key.cache_clear()
    try:
        by_token = seal_card_slot(ADA[0])
        assert slot_key() == derive_key("the action server's token, as generated")
        monkeypatch.setenv("RIC_SLOT_KEY", "a slot key of its own, long enough")
        slot_key.cache_clear()
        by_slot_key = seal_card_slot(ADA[0])
        assert (card_from_slot(by_token), card_from_slot(by_slot_key)) == (None, ADA[0])
    finally:
        slot_key.cache_clear()
