"""Sealing the ``card_number`` slot: the tracker store never holds a card number in clear.

The identification form needs the reader's card back on the turn after they typed it
(the PIN comes after the card), so the card travels in Rasa's ``card_number`` slot,
which Rasa saves in its tracker store. The action server therefore seals the number
before it sets the slot, with authenticated encryption (``cryptography``'s Fernet:
AES-128-CBC with an HMAC-SHA256), and opens it when it reads the slot back. A sealed
value looks like::

    sealed-card/1:**********3456:gAAAAABn...

The middle part is the card masked to its last four (what every other stored copy of
a card shows), so the reader store, a data-rights export and the console can show the
masked card without the key; the last part is the Fernet token. Opening checks that
the masked part matches the number inside, so neither part can be swapped.

The key (:func:`derive_key`) is derived with HKDF-SHA256 from a secret of the action
server (``RIC_SLOT_KEY``, else its ``RIC_ACTIONS_TOKEN``; ``actions._common``). A value
sealed under another key, or damaged, does not open: :func:`open_card` returns None,
and the form asks the reader for their card again.
"""

from __future__ import annotations

import base64
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crm_store.redaction import CARD_DIGITS, SEALED_CARD_PREFIX, mask_card, sealed_card_mask

__all__ = ["KEY_INFO", "derive_key", "open_card", "seal_card"]

KEY_INFO = b"reader-interaction-center card_number slot/1"
"""HKDF's context string: a key derived for the slot is good for nothing else."""

_CARD = re.compile(rf"\d{{{CARD_DIGITS}}}")


def derive_key(secret: str) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) derived from ``secret`` with HKDF-SHA256.

    Args:
        secret: The action server's slot key or token; any length, never empty.

    Raises:
        ValueError: ``secret`` is empty.
    """
    if not secret:
        raise ValueError("a card-sealing key needs a non-empty secret")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def seal_card(card_number: str, key: bytes) -> str:
    """The slot value that carries ``card_number`` sealed under ``key``.

    Args:
        card_number: The card's 14 digits.
        key: A key from :func:`derive_key`.

    Raises:
        ValueError: ``card_number`` is not 14 digits.
    """
    if not _CARD.fullmatch(card_number):
        raise ValueError("only a 14-digit card number is sealed")
    token = Fernet(key).encrypt(card_number.encode()).decode()
    return f"{SEALED_CARD_PREFIX}{mask_card(card_number)}:{token}"


def open_card(value: object, key: bytes) -> str | None:
    """The card number inside a sealed slot value, or None when it cannot be opened.

    None for anything that is not a sealed value, for a value sealed under another key
    (the key was rotated), and for a damaged or altered one.
    """
    masked = sealed_card_mask(value)
    if masked is None or not isinstance(value, str):
        return None
    token = value[len(SEALED_CARD_PREFIX) + len(masked) + 1 :]
    try:
        card = Fernet(key).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeDecodeError):
        return None
    if not _CARD.fullmatch(card) or mask_card(card) != masked:
        return None
    return card
