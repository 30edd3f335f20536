"""Reader-text rules shared by every channel.

Rasa treats any text starting with ``/`` as a hand-written intent with slots
(``/renew_loans{"card": "..."}``), which would let a reader skip NLU and set slots.
Connectors pass typed text through :func:`neutralize_intent_shortcut` so NLU
always sees it as plain text; only button payloads the bot itself offered may
carry the shortcut syntax.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_MESSAGE_CHARS = 4000

# WORD JOINER: invisible, and not whitespace, so Rasa's ``strip()`` keeps it and the
# text no longer starts with "/".
_GUARD = "\u2060"


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
