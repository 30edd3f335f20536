"""mask_cards_in_text: card numbers in transcript text, as staff see them (issue 15)."""

from __future__ import annotations

import pytest

from crm_store.redaction import mask_cards_in_text

pytestmark = pytest.mark.workspace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 21234000123456", "my card is **********3456"),
        ("card 2123 4000 1234 56 please", "card **********3456 please"),
        ("2123-4000-1234-56", "**********3456"),
        ("21234000123456 4821", "**********3456 4821"),
        ("two: 21234000123456 and 21234000567890.", "two: **********3456 and **********7890."),
        ("call 0207 946 0100", "call 0207 946 0100"),
        ("no digits at all", "no digits at all"),
        ("", ""),
    ],
)
def test_mask_cards_in_text(text: str, expected: str) -> None:
    assert mask_cards_in_text(text) == expected
