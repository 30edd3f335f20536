"""The one normaliser every channel applies to text from outside: ``clean_text``."""

from __future__ import annotations

import pytest

from messaging.text_safety import REPLACEMENT, clean_text


@pytest.mark.defects
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("hello \ud800 open?", f"hello {REPLACEMENT} open?"),  # the message that wedged the store
        ("\udfff", REPLACEMENT),
        ("end \ud83d", f"end {REPLACEMENT}"),  # a high half at the very end
        ("\udc00\ud800", REPLACEMENT * 2),  # halves in the wrong order
        ("x\udcffy", f"x{REPLACEMENT}y"),  # what surrogateescape makes of a stray byte
    ],
)
def test_lone_surrogates_become_the_replacement_character(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    clean_text(raw).encode("utf-8")  # raises UnicodeEncodeError if a surrogate survived


def test_a_surrogate_pair_split_in_two_is_joined_into_its_character() -> None:
    assert clean_text("smile \ud83d\ude00 please") == "smile \U0001f600 please"
    assert clean_text("\ud800\ud83d\ude00") == f"{REPLACEMENT}\U0001f600"


@pytest.mark.defects
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("nul\x00here", "nulhere"),
        ("c1\x88control\x9f", "c1control"),  # "\u0088" was delivered to a reader
        ("bell\x07 esc\x1b[31m del\x7f", "bell esc[31m del"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),  # kept
        ("windows\r\nline\rends", "windows\nline\nends"),
    ],
)
def test_control_characters_go_except_newline_and_tab(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_text_is_composed_to_nfc() -> None:
    decomposed = "Mu\u0308ller cafe\u0301"
    assert clean_text(decomposed) == "M\u00fcller caf\u00e9"


def test_ordinary_text_is_unchanged() -> None:
    text = "Can I renew 'Dune' <b>today</b>? 📚 \u2060/greet — ok"
    assert clean_text(text) == text


def test_cleaning_twice_changes_nothing_more() -> None:
    raw = "a\ud800\x00b\r\nc\u0301\x85"
    assert clean_text(clean_text(raw)) == clean_text(raw)
