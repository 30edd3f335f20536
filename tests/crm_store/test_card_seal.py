"""Sealing the ``card_number`` slot (crm_store.card_seal) and how the redaction treats it."""

from __future__ import annotations

import re

import pytest

from crm_store.card_seal import derive_key, open_card, seal_card
from crm_store.redaction import mask_card_slot, mask_cards_in_event, sealed_card_mask
from ric_config import ActionsConfig, SettingsError

CARD = "21234000123456"
KEY = derive_key("a slot key for the tests, long enough")
OTHER_KEY = derive_key("another slot key, after a rotation")


def test_a_sealed_card_opens_with_its_key_and_shows_only_the_last_four() -> None:
    sealed = seal_card(CARD, KEY)

    assert re.fullmatch(r"sealed-card/1:\*{10}3456:[\w=-]+", sealed), sealed
    assert CARD not in sealed
    assert open_card(sealed, KEY) == CARD
    assert sealed_card_mask(sealed) == "**********3456"


def test_sealing_twice_gives_two_different_values() -> None:
    assert seal_card(CARD, KEY) != seal_card(CARD, KEY)  # a fresh IV each time


def test_a_card_sealed_under_another_key_does_not_open() -> None:
    assert open_card(seal_card(CARD, OTHER_KEY), KEY) is None


def test_an_altered_sealed_value_does_not_open() -> None:
    sealed = seal_card(CARD, KEY)
    prefix, masked, token = sealed.rsplit(":", 2)
    other_mask = f"{prefix}:**********9999:{token}"
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    assert open_card(other_mask, KEY) is None  # the visible last four must match
    assert open_card(f"{prefix}:{masked}:{flipped}", KEY) is None
    assert open_card(f"{prefix}:{masked}:not-a-token", KEY) is None


@pytest.mark.parametrize("value", [None, "", CARD, "**********3456", 21234000123456, {"a": 1}])
def test_anything_not_sealed_does_not_open(value: object) -> None:
    assert open_card(value, KEY) is None
    assert sealed_card_mask(value) is None


@pytest.mark.parametrize("card", ["2123400012345", "212340001234567", "2123 4000 1234 56", ""])
def test_only_a_14_digit_card_is_sealed(card: str) -> None:
    with pytest.raises(ValueError, match="14-digit"):
        seal_card(card, KEY)


def test_the_key_depends_on_the_secret_and_an_empty_secret_is_refused() -> None:
    assert derive_key("same secret") == derive_key("same secret")
    assert derive_key("same secret") != derive_key("other secret")
    with pytest.raises(ValueError, match="non-empty"):
        derive_key("")


def test_a_short_slot_key_stops_the_settings_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="RIC_SLOT_KEY"):
        ActionsConfig.load({"RIC_SLOT_KEY": "too short"})
    assert ActionsConfig.load({}).slot_key.get_secret_value() == ""


# ------------------------------------------------------------------- the tracker store's save


def _slot(value: object) -> dict[str, object]:
    return {"event": "slot", "timestamp": 1.0, "name": "card_number", "value": value}


def test_the_tracker_store_keeps_a_sealed_card_slot_as_it_is() -> None:
    body = _slot(seal_card(CARD, KEY))

    assert mask_cards_in_event(body) == body


def test_the_tracker_store_masks_a_card_slot_set_in_clear() -> None:
    # The last guard: an action server that set the card in clear; the form then asks again.
    assert mask_cards_in_event(_slot(CARD)) == _slot("**********3456")


def test_the_reader_stores_copy_and_the_export_show_the_masked_card_never_the_token() -> None:
    assert mask_card_slot(_slot(seal_card(CARD, KEY))) == _slot("**********3456")
    assert mask_card_slot(_slot(CARD)) == _slot("**********3456")
    assert mask_card_slot(_slot(None)) == _slot(None)
