"""FAQ answers whose facts come from the library profile.

The retrieval intent ``faq`` predicts a response such as ``utter_faq/printing``.
:class:`ActionAnswerFaq` looks that response up in the domain and fills its
placeholders from the profile, so a price or loan period lives in one place.

Placeholder syntax: ``{dotted.path}`` or ``{dotted.path:format}``, where the path
walks the profile YAML (branches are keyed by id) and ``format`` is one of:

- ``money``: ``0.25`` -> ``25p``, ``6`` -> ``£6.00``, ``0`` -> ``free``
- ``pounds``: always pounds, ``0.25`` -> ``£0.25``
- ``time``: ``"14:00"`` -> ``14:00`` (also ``9:00`` for ``"09:00"``)
- ``list``: ``[a, b, c]`` -> ``a, b and c``
- ``duration``: minutes as words, ``120`` -> ``2 hours``, ``90`` -> ``90 minutes``
- ``lower``: lower-case text

``closures.<slug>`` (e.g. ``closures.christmas_eve.close``) holds the next
occurrence of each named closure, and ``closures.upcoming`` lists the next few.
An unknown path or format is left in the text as written and logged; it never
breaks the answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.types import DomainDict

from actions import hours
from actions._common import Dispatcher, Events, Named, profile_or_apology
from library.profile import LibraryProfile

__all__ = [
    "PLACEHOLDER",
    "ActionAnswerFaq",
    "faq_response_key",
    "format_answer",
    "placeholder_context",
]

logger = logging.getLogger(__name__)

#: ``{path}`` or ``{path:format}``; paths are dotted identifiers.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w]*(?:\.[\w]+)*)(?::([a-z]+))?\}")

_UPCOMING_CLOSURES = 4
FAQ_UNAVAILABLE = (
    "Sorry, I can't answer that right now. Please ask a librarian or check the library website."
)

_Missing = object()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("'", "")).strip("_")


def _clock(value: Any) -> str:
    text = str(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    return f"{int(match[1])}:{match[2]}" if match else text


def _closure_context(profile: LibraryProfile, today: date) -> dict[str, Any]:
    by_slug: dict[str, Any] = {}
    upcoming = [c for c in profile.closures if c.date >= today]
    for closure in upcoming:
        by_slug.setdefault(
            _slug(closure.name),
            {
                "name": closure.name,
                "date": f"{closure.date:%A} {closure.date.day} {closure.date:%B %Y}",
                "close": closure.close.strftime("%H:%M") if closure.close else "closed",
                "branches": [
                    profile.branch(b).short_name
                    for b in profile.branch_ids
                    if b in closure.branches
                ],
            },
        )
    lines = []
    for closure in upcoming[:_UPCOMING_CLOSURES]:
        when = f"{closure.date:%a} {closure.date.day} {closure.date:%b}"
        what = (
            "closed" if closure.close is None else f"closing at {_clock(f'{closure.close:%H:%M}')}"
        )
        lines.append(f"{when} ({closure.name}): {what}")
    by_slug["upcoming"] = "; ".join(lines) if lines else "none planned"
    return by_slug


def placeholder_context(profile: LibraryProfile, today: date) -> dict[str, Any]:
    """Return the tree the placeholders are looked up in.

    It is the profile YAML with ``branches`` keyed by branch id and ``closures``
    replaced by the next occurrence of each closure (keyed by a slug of its name)
    plus ``closures.upcoming``.

    Args:
        profile: The library profile.
        today: The local date that "next" and "upcoming" are relative to.
    """
    context = dict(profile.raw)
    context["branches"] = {b["id"]: b for b in profile.raw["branches"]}
    context["closures"] = _closure_context(profile, today)
    return context


def _lookup(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.isdigit():
            index = int(part)
            if index >= len(value):
                return _Missing
            value = value[index]
        else:
            return _Missing
    return value


def _money(value: float, *, always_pounds: bool) -> str:
    if not always_pounds and value == 0:
        return "free"
    if not always_pounds and value < 1:
        return f"{round(value * 100)}p"
    return f"£{value:.2f}"


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _render(value: Any, spec: str | None) -> str | None:
    """Render a value with a format spec; ``None`` means the spec does not apply."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if spec is None:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if isinstance(value, Mapping):
            return None
        return str(value).strip()
    if spec in ("money", "pounds") and is_number:
        return _money(float(value), always_pounds=spec == "pounds")
    if spec == "time":
        return _clock(value)
    if spec == "list" and isinstance(value, list):
        items = [str(item) for item in value]
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " and " + items[-1]
    if spec == "duration" and is_number:
        return _duration(int(value))
    if spec == "lower" and isinstance(value, str):
        return value.lower()
    return None


def format_answer(template: str, profile: LibraryProfile, today: date) -> str:
    """Fill ``{dotted.path}`` placeholders in a response text from the profile.

    Args:
        template: The response text from the domain.
        profile: The library profile.
        today: The local date, for closure placeholders.

    Returns:
        The text with every known placeholder replaced. Unknown paths or formats
        are left as written and logged as warnings.
    """
    context = placeholder_context(profile, today)

    def replace(match: re.Match[str]) -> str:
        path, spec = match[1], match[2]
        value = _lookup(context, path)
        if value is _Missing:
            logger.warning("FAQ placeholder %s: no such field in the library profile", match[0])
            return match[0]
        rendered = _render(value, spec)
        if rendered is None:
            logger.warning("FAQ placeholder %s: cannot format %r", match[0], value)
            return match[0]
        return rendered

    return PLACEHOLDER.sub(replace, template)


def faq_response_key(latest_message: Mapping[str, Any]) -> str | None:
    """Return the response the ResponseSelector picked, e.g. ``utter_faq/wifi``.

    Reads ``response_selector.faq.response.utter_action``, falling back to
    ``"utter_" + intent_response_key`` when that is missing. A ResponseSelector
    configured without ``retrieval_intent`` files its result under ``default``.
    """
    selector = latest_message.get("response_selector") or {}
    response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    utter_action = response.get("utter_action")
    if utter_action:
        return str(utter_action)
    key = response.get("intent_response_key")
    return f"utter_{key}" if key else None


class ActionAnswerFaq(Named, Action, name="action_answer_faq"):
    """Answer an FAQ with the predicted response, its facts filled from the profile."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Send the FAQ answer for the latest message."""
        key = faq_response_key(tracker.latest_message)
        variations = (domain.get("responses") or {}).get(key) if key else None
        if not variations:
            logger.warning("no FAQ response %r in the domain", key)
            dispatcher.utter_message(response="utter_default")
            return []
        variation = dict(variations[0])
        profile = profile_or_apology(dispatcher, FAQ_UNAVAILABLE)
        if profile is None:
            return []
        # One clock for both actions, so tests set the time in one place.
        today = hours.clock(profile.tz).date()
        text = format_answer(str(variation.get("text") or ""), profile, today)
        dispatcher.utter_message(
            text=text,
            buttons=variation.get("buttons") or [],
            image=variation.get("image"),
        )
        return []
