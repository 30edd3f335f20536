"""mask_personal: card numbers, email addresses and phone numbers out of texts shown to admins."""

from __future__ import annotations

import pytest

from crm_store.redaction import mask_personal


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 2123 4000 1234 56 please", "card **********3456 please"),
        ("mail jo.bloggs+lib@mail.example.co.uk now", "mail [email] now"),
        ("ring +44 20 7946 0958", "ring [phone]"),
        ("or (0161) 496-0000 after 5", "or [phone] after 5"),
        ("07700900123", "[phone]"),
        ("room 12 on 3 May 2024, pin ••••", "room 12 on 3 May 2024, pin ••••"),
        ("isbn 9780141439518 is a long number", "isbn 9780141439518 is a long number"),
        ("", ""),
    ],
)
def test_mask_personal(text: str, masked: str) -> None:
    assert mask_personal(text) == masked
