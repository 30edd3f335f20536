"""Keep PINs and card numbers out of everything Rasa saves.

A reader types their PIN in a chat message. The identification form reads it from
the live turn, but the tracker store (and so the reader store) must never keep it.
Before an event is saved, :func:`redact_event` replaces PIN-like digit runs in a
reader's message when the bot had just asked for the PIN, or when the message says
"pin" next to the digits ("card is 21234000123456, pin 4821").

Card numbers are masked to their last four digits in everything the tracker store
saves (:func:`mask_cards_in_event`, issue 18), with no exception. The identification
form reads the card back on the reader's next turn (the PIN comes after the card), so
the action server keeps it in the ``card_number`` slot *sealed*: encrypted under a key
only the action server holds, next to the card masked to its last four
(``sealed-card/1:**********3456:<token>``, :mod:`crm_store.card_seal`). A sealed value
is saved as it is; any other value of that slot (a card in clear from an older action
server) is masked like any other text, and the form then asks for the card again. The
reader store's copy of that slot event, and a data-rights export, show only the masked
part (:func:`mask_card_slot`), never the token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, overload

PIN_SLOT = "pin_check"
MASK = "••••"

CARD_DIGITS = 14
# "pin", "PIN code", "pin number", "passcode", "password", also glued to digits ("pin4821").
PIN_WORD = re.compile(r"\b(?:pin(?:\s*(?:code|number))?|passcode|password)(?![a-z])", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d+(?:[ \-]\d+)*")
_SHORT_DIGITS = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def card_spans(text: str) -> list[tuple[int, int, str]]:
    """Where 14-digit card numbers are in ``text``: (start, end, digits).

    Digits may be grouped with spaces or dashes ("2123 4000 1234 56"); groups are
    taken from the left until they make 14 digits, so a PIN typed after the card
    ("21234000123456 4821") is not swallowed into it.
    """
    spans = []
    for run in _DIGIT_RUN.finditer(text):
        groups = list(re.finditer(r"\d+", run.group(0)))
        for first in range(len(groups)):
            total = 0
            for last in range(first, len(groups)):
                total += len(groups[last].group(0))
                if total == CARD_DIGITS:
                    start = run.start() + groups[first].start()
                    end = run.start() + groups[last].end()
                    spans.append((start, end, re.sub(r"\D", "", text[start:end])))
                    break
                if total > CARD_DIGITS:
                    break
            if spans and spans[-1][0] >= run.start():
                break
    return spans


def pin_runs(text: str, pin_requested: bool) -> set[str]:
    """The PIN-like digit runs in ``text`` (none unless a PIN is plausibly present).

    Card numbers are never PIN runs, however they are grouped.
    """
    if not pin_requested and not PIN_WORD.search(text):
        return set()
    cards = card_spans(text)
    return {
        match.group(0)
        for match in _SHORT_DIGITS.finditer(text)
        if not any(start <= match.start() < end for start, end, _ in cards)
    }


@overload
def mask_card(card_number: str) -> str: ...


@overload
def mask_card(card_number: None) -> None: ...


def mask_card(card_number: str | None) -> str | None:
    """Hide all but the last four characters of a card number (``**********3456``).

    The mask keeps the number's length; a number of four characters or fewer is
    hidden whole, and None stays None. The one masking used in logs, the console
    and the library adapters.
    """
    if card_number is None:
        return None
    visible = card_number[-4:] if len(card_number) > 4 else ""
    return "*" * (len(card_number) - len(visible)) + visible


def mask_cards_in_text(text: str) -> str:
    """Return ``text`` with every 14-digit card number in it masked to its last four.

    However the reader grouped the digits ("2123 4000 1234 56"), the number becomes
    ``**********3456``; the text around it is kept. Staff views of transcripts use it,
    so a card typed in a chat shows no more than the profile does.
    """
    spans = card_spans(text)
    for start, end, digits in reversed(spans):
        text = text[:start] + mask_card(digits) + text[end:]
    return text


EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: an optional +, then 7 to 15 digits grouped by spaces, dots, dashes or
# brackets ("+44 20 7946 0958", "(0161) 496-0000", "07700900123").
_PHONE = re.compile(r"(?<![\w*])\+?\(?\d(?:[\d .()\-]*\d)?(?![\w*])")
PHONE_DIGITS = (7, 15)


def mask_personal(text: str) -> str:
    """Return ``text`` with card numbers, email addresses and phone numbers masked.

    Cards keep their last four digits (:func:`mask_cards_in_text`); an email address
    becomes ``[email]`` and a run of 7 to 15 digits that looks like a phone number
    ``[phone]``. Shorter numbers (a year, a PIN already masked, a room) and ISBN-13s
    (978/979) are kept. The admin studio shows readers' messages this way, with no
    reader identity.
    """
    text = _EMAIL.sub(EMAIL_MASK, mask_cards_in_text(text))

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        low, high = PHONE_DIGITS
        if len(digits) == 13 and digits.startswith(("978", "979")):
            return match.group(0)  # an ISBN-13, which readers quote to ask for a book
        return PHONE_MASK if low <= len(digits) <= high else match.group(0)

    return _PHONE.sub(phone, text)


def mask_pins(text: str, pin_requested: bool) -> str:
    """Return ``text`` with PIN-like digit runs masked, if a PIN is plausibly present.

    Card numbers are left as they are, however they are grouped.
    """
    if not pin_requested and not PIN_WORD.search(text):
        return text
    cards = card_spans(text)

    def mask(match: re.Match[str]) -> str:
        inside_card = any(start <= match.start() < end for start, end, _ in cards)
        return match.group(0) if inside_card else MASK

    return _SHORT_DIGITS.sub(mask, text)


def _mask_runs(value: Any, runs: re.Pattern[str]) -> Any:
    """``value`` with every string in it (through dicts and lists) stripped of ``runs``."""
    if isinstance(value, str):
        return runs.sub(MASK, value)
    if isinstance(value, Mapping):
        return {key: _mask_runs(item, runs) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_runs(item, runs) for item in value]
    return value


CARD_SLOT = "card_number"
SEALED_CARD_PREFIX = "sealed-card/1:"
"""How a sealed ``card_number`` slot value starts (:mod:`crm_store.card_seal`)."""
_SEALED_CARD = re.compile(re.escape(SEALED_CARD_PREFIX) + r"(\*{10}\d{4}):[A-Za-z0-9_\-=]+")
_UNMASKED_KEYS = frozenset({"message_id", "sender_id", "input_channel", "event", "name"})


def _mask_card_strings(value: Any) -> Any:
    """``value`` with card numbers masked in every string (through dicts and lists)."""
    if isinstance(value, str):
        return mask_cards_in_text(value)
    if isinstance(value, Mapping):
        return {
            key: item if key in _UNMASKED_KEYS else _mask_card_strings(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_card_strings(item) for item in value]
    return value


def sealed_card_mask(value: object) -> str | None:
    """The masked card (``**********3456``) shown by a sealed slot value, or None.

    None when ``value`` is not a sealed ``card_number`` value. Needs no key: the mask is
    stored beside the sealed number.
    """
    if not isinstance(value, str):
        return None
    match = _SEALED_CARD.fullmatch(value)
    return match.group(1) if match else None


def mask_cards_in_event(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a serialised Rasa event with card numbers masked to their last four.

    Covers a reader's or the bot's message (its text, the parse data, the metadata's
    ``display_text``) and every slot value; a sealed ``card_number`` value is kept as
    it is (see the module docstring). Ids (``message_id``, ``sender_id``) are never
    touched; other events are returned unchanged.
    """
    kind = body.get("event")
    if kind == "slot":
        if body.get("name") == CARD_SLOT and sealed_card_mask(body.get("value")) is not None:
            return body
        return {**body, "value": _mask_card_strings(body.get("value"))}
    if kind not in {"user", "bot"}:
        return body
    masked = dict(body)
    if isinstance(body.get("text"), str):
        masked["text"] = mask_cards_in_text(body["text"])
    for key in ("parse_data", "data"):
        if isinstance(body.get(key), Mapping):
            masked[key] = _mask_card_strings(body[key])
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("display_text"), str):
        masked["metadata"] = {
            **metadata,
            "display_text": mask_cards_in_text(metadata["display_text"]),
        }
    return masked


def mask_card_slot(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a serialised event whose ``card_number`` slot value is masked.

    For the reader store's copy of the events (``raw_events``) and a data-rights
    export, which never need the number back (the verified reader record holds it):
    a sealed value becomes its masked part, a value in clear is masked.
    """
    value = body.get("value")
    if body.get("event") == "slot" and body.get("name") == CARD_SLOT and isinstance(value, str):
        return {**body, "value": sealed_card_mask(value) or mask_card(value)}
    return body


def redact_event(body: dict[str, Any], pin_requested: bool) -> dict[str, Any]:
    """Return a copy of a serialised user event with any PIN masked (other events unchanged).

    The PIN found in the message text is masked there and wherever it appears in the
    parse data: the cleaned text, the parts of a message with several requests, entity
    values. The parse data keeps its own (cleaned) text, masked, not the original.
    """
    if body.get("event") != "user" or not isinstance(body.get("text"), str):
        return body
    found = pin_runs(body["text"], pin_requested)
    if not found:
        return body
    runs = re.compile(
        "(?<!\\d)(?:"
        + "|".join(re.escape(r) for r in sorted(found, key=len, reverse=True))
        + ")(?!\\d)"
    )
    redacted = dict(body)
    redacted["text"] = mask_pins(body["text"], pin_requested)
    parse = body.get("parse_data")
    if isinstance(parse, Mapping):
        redacted["parse_data"] = _mask_runs(parse, runs)
    return redacted
