"""Edits of the bot's responses (``utter_*``) and FAQ answers (``utter_faq/<topic>``).

The editor changes a response's variations: text, buttons (title and payload) and an
optional channel. Any other key of a variation (``condition``, ``image``, ``custom``)
is kept for the variation at the same position. A text that did not change keeps the
quoting it was written with.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from handoff_console.services.errors import BadRequest, Conflict
from handoff_console.studio.training_data.model import FAQ_PREFIX, RESPONSE_PREFIX, Snapshot

__all__ = ["EDITED_KEYS", "add_response", "check_variations", "set_response", "variation_view"]

EDITED_KEYS = ("text", "buttons", "channel")
"""The keys of a variation the editor writes; any other is kept."""
MAX_TEXT = 2000
MAX_BUTTONS = 10
_NAME = re.compile(r"^utter_(faq/)?[a-z][a-z0-9_]{0,63}$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _quoted(text: str) -> Any:
    """``text`` quoted as the domain files quote: double, or single around a double quote."""
    if '"' in text and "'" not in text:
        return SingleQuotedScalarString(text)
    return DoubleQuotedScalarString(text)


def _line(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("bad_button", f"A button needs a {what}.")
    value = value.strip()
    if "\n" in value or len(value) > limit:
        raise BadRequest(
            "bad_button", f"A button's {what} is one line of at most {limit} characters."
        )
    return value


def check_variations(variations: object) -> list[dict[str, Any]]:
    """Variations as sent by the API, checked: ``[{text, buttons?, channel?}, ...]``."""
    if not isinstance(variations, list) or not variations:
        raise BadRequest("no_variations", "A response needs at least one variation.")
    checked = []
    for variation in variations:
        if not isinstance(variation, dict):
            raise BadRequest("bad_variation", "Each variation is an object with a text.")
        text = variation.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("empty_text", "A variation needs a text.")
        if len(text) > MAX_TEXT:
            raise BadRequest("text_too_long", f"A text has at most {MAX_TEXT} characters.")
        buttons = variation.get("buttons") or []
        if not isinstance(buttons, list) or len(buttons) > MAX_BUTTONS:
            raise BadRequest("bad_button", f"A variation has at most {MAX_BUTTONS} buttons.")
        kept: list[dict[str, str]] = []
        one: dict[str, Any] = {"text": text.strip(), "buttons": kept}
        for button in buttons:
            if not isinstance(button, dict):
                raise BadRequest("bad_button", "Each button is an object with title and payload.")
            title = _line(button.get("title"), "title", 64)
            kept.append({"title": title, "payload": _line(button.get("payload"), "payload", 200)})
        channel = variation.get("channel")
        if channel not in (None, ""):
            if not isinstance(channel, str) or not _CHANNEL.match(channel):
                raise BadRequest("bad_channel", "A channel is a name such as telegram or slack.")
            one["channel"] = channel
        checked.append(one)
    return checked


def variation_view(variation: Any) -> dict[str, Any]:
    """One variation as the API shows it; keys the editor does not write are listed."""
    variation = variation if isinstance(variation, dict) else {}
    return {
        "text": str(variation.get("text") or ""),
        "buttons": [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in variation.get("buttons") or []
            if isinstance(b, dict)
        ],
        "channel": str(variation["channel"]) if variation.get("channel") else None,
        "other_keys": sorted(str(k) for k in variation if k not in EDITED_KEYS),
    }


def _written(new: dict[str, Any], old: Any) -> CommentedMap:
    """A variation to write: ``new``'s keys, ``old``'s other keys and unchanged quoting."""
    old = old if isinstance(old, dict) else {}
    out = CommentedMap()
    out["text"] = old["text"] if old.get("text") == new["text"] else _quoted(new["text"])
    if new["buttons"]:
        out["buttons"] = CommentedSeq(
            CommentedMap(title=_quoted(b["title"]), payload=_quoted(b["payload"]))
            for b in new["buttons"]
        )
    if new.get("channel"):
        out["channel"] = new["channel"]
    for key, value in old.items():
        if key not in EDITED_KEYS:
            out[key] = value
    return out


def set_response(snap: Snapshot, name: str, variations: object) -> None:
    """Replace a response's variations."""
    current = snap.response(name)
    checked = check_variations(variations)
    rel = snap.responses()[name]
    old = list(current or [])
    snap.data[rel]["responses"][name] = CommentedSeq(
        _written(new, old[i] if i < len(old) else None) for i, new in enumerate(checked)
    )
    snap.touch(rel)


def add_response(snap: Snapshot, name: str, variations: object) -> str:
    """Add a new response to the domain file that holds its kind; that file.

    ``utter_faq/<topic>`` goes where the other FAQ answers are, any other ``utter_*``
    where the everyday responses (``utter_greet``) are.
    """
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise BadRequest(
            "bad_name",
            "Name a response utter_<name> or utter_faq/<topic>, in lower-case letters, "
            "digits and _.",
        )
    name = name.strip()
    if name in snap.responses():
        raise Conflict("response_exists", f"{name} already exists; edit it instead.")
    checked = check_variations(variations)
    like = (
        RESPONSE_PREFIX + FAQ_PREFIX
        if name.startswith(RESPONSE_PREFIX + FAQ_PREFIX)
        else "utter_greet"
    )
    rel = next(
        (
            r
            for r, doc in ((r, snap.data[r]) for r in snap.domain_files())
            if isinstance(doc, dict)
            and any(str(k).startswith(like) for k in doc.get("responses") or {})
        ),
        None,
    )
    if rel is None:
        raise BadRequest("no_domain_section", "No domain file has responses to add to.")
    snap.data[rel]["responses"][name] = CommentedSeq(_written(v, None) for v in checked)
    snap.touch(rel)
    return rel
