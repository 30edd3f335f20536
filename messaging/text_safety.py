"""Reader-text rules shared by every channel.

Rasa treats any text starting with ``/`` as a hand-written intent with slots
(``/renew_loans{"card": "..."}``), which would let a reader skip NLU and set slots.
Connectors pass typed text through :func:`neutralize_intent_shortcut` so NLU
always sees it as plain text; only button payloads the bot itself offered may
carry the shortcut syntax.

:func:`clean_text` is the one normaliser every boundary applies to text from outside
(reader channels, and staff messages on their way to a reader): invalid Unicode is
repaired and control characters are dropped before Rasa, the store or a reader sees it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

MAX_MESSAGE_CHARS = 4000

# WORD JOINER: invisible, and not whitespace, so Rasa's ``strip()`` keeps it and the
# text no longer starts with "/".
_GUARD = "\u2060"


# C0 controls except tab and newline, DEL, and the C1 block. Carriage returns are
# folded into newlines first, so they are not in this set's way.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """Return ``text`` safe to hand to Rasa, the reader store or a reader's screen.

    - Lone surrogates (which cannot be encoded as UTF-8, so no database or socket
      can carry them) become U+FFFD, the Unicode replacement character; a valid
      high-low surrogate pair becomes the character it encodes.
    - ``\\r\\n`` and ``\\r`` become ``\\n``.
    - C0 and C1 control characters are removed, except newline and tab; NUL is a C0
      control, so it goes too.
    - The result is in Unicode normal form NFC, so that the same words typed on two
      keyboards compare equal.

    Args:
        text: Text from outside the system.

    Returns:
        The repaired text; it may be shorter than ``text``.
    """
    repaired = text
    if _SURROGATE.search(repaired):
        # A high surrogate followed by a low one is a character split in two (by a
        # UTF-16 source or JSON escapes): join it. Only a lone half is replaced.
        repaired = repaired.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    repaired = repaired.replace("\r\n", "\n").replace("\r", "\n")
    repaired = _CONTROL.sub("", repaired)
    return unicodedata.normalize("NFC", repaired)


def neutralize_intent_shortcut(text: str) -> str:
    """Return ``text`` so that Rasa cannot read it as an ``/intent{...}`` shortcut."""
    if text.strip().startswith("/"):
        return _GUARD + text.strip()
    return text


def strip_guard(text: str) -> str:
    """Remove the invisible guard added by :func:`neutralize_intent_shortcut`."""
    return text[len(_GUARD) :] if text.startswith(_GUARD) else text


def offered_payloads(bot_messages: Iterable[Mapping[str, Any]]) -> set[str]:
    """Collect the button and quick-reply payloads offered in the given bot messages."""
    payloads: set[str] = set()
    for message in bot_messages:
        for key in ("buttons", "quick_replies"):
            for button in message.get(key) or []:
                payload = button.get("payload") if isinstance(button, Mapping) else None
                if isinstance(payload, str):
                    payloads.add(payload)
    return payloads
