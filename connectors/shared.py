"""What several channels share: whole-message output, the tracker look-ups, button links.

- :class:`WholeMessageOutput`: the base of an output channel that takes each bot message
  whole (text, buttons and the rest together), as the widget and email channels do.
- :func:`tracker_events`, :func:`recent_offers` and :func:`holds_user_message`: what a
  channel asks of the conversation's tracker (the button payloads the bot offered in
  its latest messages; whether a user message was already saved).
- :func:`button_url`: the link of a Rasa link button, or None for a payload button.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from rasa.core.channels.channel import OutputChannel

from messaging.text_safety import offered_payloads

__all__ = [
    "RECENT_BOT_MESSAGES",
    "TrackerSource",
    "WholeMessageOutput",
    "button_url",
    "holds_user_message",
    "recent_offers",
    "tracker_events",
]

RECENT_BOT_MESSAGES = 5
"""A pressed button counts when one of the bot's latest this-many messages offered it."""


class TrackerSource(Protocol):
    """The part of Rasa's tracker store the channels read."""

    async def retrieve_full_tracker(self, sender_id: str) -> Any:
        """The conversation's tracker with all its events, or None."""
        ...


class WholeMessageOutput(OutputChannel):
    """An output channel that sends each bot message whole; subclasses define ``send_response``.

    Plain text that Rasa sends directly becomes the same kind of message.
    """

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text as a message of its own."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


async def tracker_events(tracker_store: TrackerSource, sender_id: str) -> list[dict[str, Any]]:
    """The conversation's events as dicts (none when Rasa has no tracker for it)."""
    tracker = await tracker_store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]


def recent_offers(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """The button payloads offered by the latest bot messages among ``events``."""
    bot_messages = [event.get("data") or {} for event in events if event.get("event") == "bot"]
    return offered_payloads(bot_messages[-RECENT_BOT_MESSAGES:])


def holds_user_message(events: Iterable[Mapping[str, Any]], message_id: str) -> bool:
    """Whether ``events`` hold the user message with ``message_id`` (it was processed)."""
    return any(
        event.get("event") == "user" and event.get("message_id") == message_id
        for event in events
    )


def button_url(button: Mapping[str, Any]) -> str | None:
    """The URL a Rasa link button opens, or None for a button that sends a payload."""
    url = button.get("url")
    if isinstance(url, str) and url:
        return url
    payload = button.get("payload")
    if button.get("type") == "web_url" and isinstance(payload, str):
        return payload
    return None
