"""The web widget's WebSocket protocol, as pure functions.

Client frames (JSON objects)::

    {"type": "hello", "session_id": "<uuid or null>", "since": <unix ts>}
    {"type": "message", "id": "<client uuid>", "text": "...", "resend": false, "secret": false}
    {"type": "button", "id": "<client uuid>", "payload": "/intent", "title": "Shown text"}
    {"type": "sync", "since": <unix ts>}
    {"type": "ping"}
    {"type": "typing", "on": true}   the reader is typing (false: stopped)

Server frames::

    {"type": "welcome", "session_id": "...", "max_chars": 4000, "queue_size": 8,
     "greeting": "Hi! ...", "topics": ["Renew my loans", ...]}
    {"type": "history", "messages": [<message>, ...], "secret": false, "handoff": {...}}
    {"type": "ack", "id": "...", "duplicate": false, "secret": false}
    {"type": "typing", "on": true}
    {"type": "error", "code": "...", "message": "...", "id": "..."}
    {"type": "pong"}
    {"type": "handoff", ...}     see :mod:`connectors.webchat.handoff`

A message with ``secret`` (the reader typed their PIN in the masked box) reaches the
conversation's other tabs as dots, never as its text.

``secret`` (history, ack): the bot's latest question asks for a secret (the PIN), so the
widget masks its input box until a later frame says otherwise. ``handoff`` in the
history frame is the conversation's handoff frame, when the reader store answered.
    <message>: {"type": "bot" | "reader", "ts": ..., "text": ..., "buttons": [...],
                "sender": "bot" | "librarian" | "reader", "id": ..., "name": ...}

Error codes: ``malformed`` (not JSON, wrong types, binary), ``too_long`` (a message
over ``max_chars``, or a frame over 64,000 characters), ``too_deep`` (JSON nested
more than :data:`MAX_JSON_DEPTH` levels: refused before it is parsed), ``unknown_type``,
``hello_first``, ``busy`` (the conversation already has as many messages waiting as it
may hold: the message with that ``id`` was *not* processed and may be sent again once
the bot has answered) and ``server_error`` (the message with that ``id`` failed; send it
again). The socket stays open after every error.

A client ``id`` is 1 to 64 printable ASCII characters (the widget uses UUIDs). Every
text a reader typed (message text, button title) passes through
:func:`messaging.text_safety.clean_text` before anything else looks at it.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from messaging.text_safety import MAX_MESSAGE_CHARS, clean_text, strip_guard

SECRET_SLOTS = frozenset({"pin_check"})
"""Form slots whose answer is a secret: the widget masks its input while one is asked."""
MAX_FRAME_CHARS = 64_000
MAX_JSON_DEPTH = 8
"""How deeply a client frame may nest arrays and objects; real frames nest 1 level."""

# A JSON string (escapes included; an unterminated one runs to the end, so the scan
# never backtracks) or a bracket. Brackets inside strings are consumed with the string.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_CLIENT_ID = re.compile(r"[\x21-\x7e]{1,64}")


class FrameError(ValueError):
    """A client frame that cannot be accepted; ``code`` goes back to the client."""

    def __init__(self, code: str, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


@dataclass(frozen=True)
class ClientFrame:
    """A validated frame from the widget."""

    type: str
    id: str | None = None
    text: str = ""
    payload: str | None = None
    session_id: str | None = None
    since: float = 0.0
    resend: bool = False
    secret: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def valid_session_id(value: object) -> str | None:
    """Return ``value`` as a canonical UUID string, or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def new_session_id() -> str:
    """Create a fresh, unguessable session id."""
    return str(uuid.uuid4())


def json_depth_exceeds(data: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` nests arrays and objects more than ``limit`` levels deep.

    A linear scan that never builds the document, so a frame of 64,000 ``[`` costs a
    regular-expression pass instead of a ``RecursionError`` inside :func:`json.loads`.
    Brackets inside JSON strings do not count.
    """
    depth = 0
    for match in _JSON_TOKEN.finditer(data):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > limit:
                return True
        elif first in "]}":
            depth -= 1
    return False


def _since(raw: Mapping[str, Any]) -> float:
    since = raw.get("since", 0)
    if isinstance(since, bool) or not isinstance(since, int | float):
        raise FrameError("malformed", "'since' must be a non-negative number")
    try:
        value = float(since)
    except OverflowError:  # an integer of hundreds of digits
        raise FrameError("malformed", "'since' must be a non-negative number") from None
    if not math.isfinite(value) or value < 0:
        raise FrameError("malformed", "'since' must be a non-negative number")
    return value


def _client_id(raw: Mapping[str, Any]) -> str:
    frame_id = raw.get("id")
    if not isinstance(frame_id, str) or not _CLIENT_ID.fullmatch(frame_id):
        raise FrameError("malformed", "'id' must be a string of 1 to 64 printable ASCII characters")
    return frame_id


def parse_client_frame(data: str | bytes, max_chars: int = MAX_MESSAGE_CHARS) -> ClientFrame | None:
    """Validate one frame from the widget.

    Returns:
        The frame, or None for a frame that is valid but says nothing (an empty message).

    Raises:
        FrameError: the frame is malformed, too long, or of an unknown type.
    """
    if isinstance(data, bytes):
        raise FrameError("malformed", "binary frames are not accepted")
    if len(data) > MAX_FRAME_CHARS:
        raise FrameError("too_long", f"frames are limited to {MAX_FRAME_CHARS} characters")
    if json_depth_exceeds(data):
        raise FrameError(
            "too_deep", f"frames may nest arrays and objects at most {MAX_JSON_DEPTH} levels deep"
        )
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and integers beyond Python's digit limit.
        raise FrameError("malformed", "frames must be JSON objects") from None
    if not isinstance(raw, dict):
        raise FrameError("malformed", "frames must be JSON objects")
    kind = raw.get("type")
    if kind == "hello":
        return ClientFrame(
            "hello", session_id=valid_session_id(raw.get("session_id")), since=_since(raw)
        )
    if kind == "sync":
        return ClientFrame("sync", since=_since(raw))
    if kind == "ping":
        return ClientFrame("ping")
    if kind == "typing":
        on = raw.get("on")
        if not isinstance(on, bool):
            raise FrameError("malformed", "'on' must be true or false")
        return ClientFrame("typing", extra={"on": on})
    if kind == "message":
        frame_id = _client_id(raw)
        text = raw.get("text")
        if not isinstance(text, str):
            raise FrameError("malformed", "'text' must be a string", frame_id)
        text = clean_text(text)
        if len(text) > max_chars:
            raise FrameError(
                "too_long",
                f"Your message is {len(text)} characters long. Please keep it under "
                f"{max_chars} characters, or split it into several messages.",
                frame_id,
            )
        if not text.strip():
            return None
        return ClientFrame(
            "message",
            id=frame_id,
            text=text.strip(),
            resend=raw.get("resend") is True,
            secret=raw.get("secret") is True,
        )
    if kind == "button":
        frame_id = _client_id(raw)
        payload, title = raw.get("payload"), raw.get("title")
        if not isinstance(payload, str) or not isinstance(title, str):
            raise FrameError("malformed", "'payload' and 'title' must be strings", frame_id)
        if len(payload) > max_chars or len(title) > max_chars:
            raise FrameError("too_long", "button frames are limited in size", frame_id)
        return ClientFrame(
            "button", id=frame_id, text=clean_text(title).strip(), payload=clean_text(payload)
        )
    raise FrameError("unknown_type", f"unknown frame type: {str(kind)[:40]!r}")


def error_frame(error: FrameError) -> dict[str, Any]:
    """The server frame that reports a rejected client frame."""
    frame: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message}
    if error.frame_id:
        frame["id"] = error.frame_id
    return frame


def _buttons(raw: object) -> list[dict[str, str]]:
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, Mapping) and isinstance(button.get("title"), str):
            buttons.append({"title": button["title"], "payload": str(button.get("payload") or "")})
    return buttons


def bot_frame(message: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a Rasa bot message (``BotUttered.message()``) into a widget frame."""
    librarian = message.get("librarian_name")
    frame: dict[str, Any] = {
        "type": "bot",
        "ts": float(message.get("timestamp") or 0.0),
        "text": message.get("text") or "",
        "sender": "librarian" if librarian else "bot",
    }
    if librarian:
        frame["name"] = str(librarian)
    if buttons := _buttons(message.get("buttons")):
        frame["buttons"] = buttons
    if quick := _buttons(message.get("quick_replies")):
        frame["quick_replies"] = quick
    if isinstance(message.get("image"), str):
        frame["image"] = message["image"]
    return frame


def history_frames(events: Iterable[Mapping[str, Any]], since: float = 0.0) -> list[dict[str, Any]]:
    """Turn tracker events into the messages the widget shows, newer than ``since``."""
    frames: list[dict[str, Any]] = []
    for event in events:
        ts = float(event.get("timestamp") or 0.0)
        if ts <= since:
            continue
        if event.get("event") == "user":
            text = event.get("text") or ""
            metadata = event.get("metadata") or {}
            shown = metadata.get("display_text") if isinstance(metadata, Mapping) else None
            frames.append(
                {
                    "type": "reader",
                    "ts": ts,
                    "id": event.get("message_id"),
                    "text": shown if isinstance(shown, str) else strip_guard(text),
                    "sender": "reader",
                }
            )
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            message = {**data, **(event.get("metadata") or {})}
            message["text"] = event.get("text")
            message["timestamp"] = ts
            frames.append(bot_frame(message))
    return frames


def masked(text: str) -> str:
    """What the other tabs show for a secret message: one dot per character."""
    return "\u2022" * len(text)


def asks_for_secret(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the bot's latest request (``requested_slot``) is for a secret slot."""
    requested = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif event.get("event") == "active_loop" and not event.get("name"):
            requested = None
    return requested in SECRET_SLOTS
