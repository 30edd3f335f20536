"""Pure translation between Rasa bot messages and Telegram Bot API shapes.

Nothing here talks to the network, so unit tests call these functions directly.

Buttons become inline keyboards. Telegram limits ``callback_data`` to 64 bytes, while
our payloads (``/place_hold{"record_id": ..., "book_format": ...}``) are often longer,
so a long payload travels as a short key, ``k:`` plus a hash of the payload. No table
is needed to map the key back: when a callback arrives, the channel compares it with
the keys of the payloads the bot offered in its latest messages, which the tracker
store already keeps durably. A key that matches none of them is an unknown button.

Messages are sent as plain text (no ``parse_mode``), so ``<``, ``*`` or ``_`` in a
reader's words or a book title can never break a message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from connectors.shared import button_url, custom_text, own_part

MAX_CALLBACK_BYTES = 64
MAX_TEXT_CHARS = 4096
KEY_PREFIX = "k:"
BUTTON_TITLE_CHARS = 64


def callback_data_for(payload: str) -> str:
    """The ``callback_data`` that stands for ``payload`` (itself when it fits in 64 bytes)."""
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(KEY_PREFIX):
        return payload
    return KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def resolve_callback(data: str, offered: Iterable[str]) -> str | None:
    """The offered payload that ``data`` stands for, or None for an unknown button."""
    for payload in offered:
        if callback_data_for(payload) == data:
            return payload
    return None


def inline_keyboard(buttons: Sequence[Mapping[str, Any]]) -> InlineKeyboardMarkup | None:
    """One inline-keyboard row per button; link buttons open their URL."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "?")[:BUTTON_TITLE_CHARS]
        url = button_url(button)
        if url is not None:
            rows.append([InlineKeyboardButton(title, url=url)])
            continue
        payload = button.get("payload")
        if isinstance(payload, str) and payload:
            rows.append([InlineKeyboardButton(title, callback_data=callback_data_for(payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split ``text`` into messages Telegram accepts, at line breaks where possible."""
    text = text.strip()
    if not text:
        return []
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


def element_lines(elements: Iterable[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A numbered list for generic-template elements (catalogue cards), and their buttons."""
    lines: list[str] = []
    buttons: list[dict[str, Any]] = []
    for number, element in enumerate(elements, start=1):
        title = str(element.get("title") or "").strip()
        subtitle = str(element.get("subtitle") or "").strip()
        line = f"{number}. {title}" + (f" — {subtitle}" if subtitle else "")
        url = element.get("item_url") or (element.get("default_action") or {}).get("url")
        if isinstance(url, str) and url:
            line += f"\n   {url}"
        lines.append(line)
        buttons.extend(dict(b) for b in element.get("buttons") or [] if isinstance(b, Mapping))
    return "\n".join(lines), buttons


def custom_message(custom: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Readable text and buttons for a custom JSON message.

    A ``telegram`` key with ``text``/``buttons`` wins; then ``text``/``buttons``;
    then ``elements`` or ``results`` as a numbered list; anything else is shown as
    ``key: value`` lines rather than raw JSON.
    """
    return custom_text(own_part(custom, "telegram"), element_lines)
