"""Keep PINs out of everything Rasa saves.

A reader types their PIN in a chat message. The identification form reads it from
the live turn, but the tracker store (and so the reader store) must never keep it.
Before an event is saved, :func:`redact_event` replaces PIN-like digit runs in a
reader's message when the bot had just asked for the PIN, or when the message says
"pin" next to the digits ("card is 21234000123456, pin 4821").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PIN_SLOT = "pin_check"
MASK = "••••"

_PIN_WORD = re.compile(r"\b(?:pin|pin\s*code|pin\s*number|passcode|password)\b", re.IGNORECASE)
# 4 to 8 digits standing alone: a 14-digit card number is not touched.
_SHORT_DIGITS = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def mask_pins(text: str, pin_requested: bool) -> str:
    """Return ``text`` with PIN-like digit runs masked, if a PIN is plausibly present."""
    if not pin_requested and not _PIN_WORD.search(text):
        return text
    return _SHORT_DIGITS.sub(MASK, text)


def redact_event(body: dict[str, Any], pin_requested: bool) -> dict[str, Any]:
    """Return a copy of a serialised user event with any PIN masked (other events unchanged)."""
    if body.get("event") != "user" or not isinstance(body.get("text"), str):
        return body
    masked = mask_pins(body["text"], pin_requested)
    if masked == body["text"]:
        return body
    redacted = dict(body)
    redacted["text"] = masked
    parse = body.get("parse_data")
    if isinstance(parse, Mapping):
        redacted["parse_data"] = {**parse, "text": masked}
    return redacted
