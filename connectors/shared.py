"""What several channels share: names, whole-message output, tracker look-ups, buttons.

- :class:`ChannelNamed`: Rasa's ``name()`` of a channel class from its ``channel_name``.
- :class:`StoreSessions`: the reader-store sessions a channel part was given, or ones
  made from the environment on first use.
- :class:`PostingOutput`: the base of a chat platform's output channel, where every kind
  of bot message becomes one post of text and buttons.
- :class:`WholeMessageOutput`: the base of an output channel that takes each bot message
  whole (text, buttons and the rest together), as the widget and email channels do.
- :func:`tracker_events`, :func:`recent_offers` and :func:`holds_user_message`: what a
  channel asks of the conversation's tracker (the button payloads the bot offered in
  its latest messages; whether a user message was already saved).
- :func:`button_url`: the link of a Rasa link button, or None for a payload button.
- :func:`own_part` and :func:`custom_text`: the readable form of a custom JSON message.

Rasa's channel classes are untyped (``Any`` to mypy), hence the ``type: ignore[misc]``
where this package subclasses them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Protocol

from rasa.core.channels.channel import OutputChannel, UserMessage
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from messaging.text_safety import offered_payloads

__all__ = [
    "RECENT_BOT_MESSAGES",
    "ChannelNamed",
    "ElementLister",
    "OnNewMessage",
    "PostingOutput",
    "StoreSessions",
    "TrackerSource",
    "WholeMessageOutput",
    "button_url",
    "custom_text",
    "holds_user_message",
    "latest_offers",
    "own_part",
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


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
"""What Rasa gives a channel's blueprint: hand one user message to the assistant."""

ElementLister = Callable[[Iterable[Mapping[str, Any]]], tuple[str, list[dict[str, Any]]]]
"""Cards (generic-template elements) to a platform's text and their buttons."""


class ChannelNamed:
    """Gives a channel class Rasa's ``name()`` from its ``channel_name``.

    The name is an input channel's URL prefix (``/webhooks/<name>/``) and an output
    channel's ``output_channel=<name>``; list it first among the bases.
    """

    channel_name: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return cls.channel_name


class StoreSessions:
    """Gives a class ``sessions``: the reader-store session factory passed to ``__init__``,
    or, without one, a factory made from the environment on first use."""

    def __init__(self, sessions: sessionmaker[Session] | None = None) -> None:
        super().__init__()
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Reader-store sessions, made on first use."""
        if self._sessions is None:
            self._sessions = make_session_factory(make_engine())
        return self._sessions


class WholeMessageOutput(ChannelNamed, OutputChannel):  # type: ignore[misc]
    """An output channel that sends each bot message whole; subclasses define ``send_response``.

    Plain text that Rasa sends directly becomes the same kind of message.
    """

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text as a message of its own."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


class PostingOutput(ChannelNamed, OutputChannel):  # type: ignore[misc]
    """A chat platform's output channel: every kind of bot message becomes one :meth:`post`.

    Subclasses define :meth:`post` and :meth:`list_elements`, and override a ``send_*``
    method where the platform can show more (Slack's image blocks, for example).
    """

    async def post(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        """Send one message of text with buttons (subclasses say how)."""
        raise NotImplementedError

    def list_elements(
        self, elements: Iterable[Mapping[str, Any]]
    ) -> tuple[str, list[dict[str, Any]]]:
        """Cards as the platform's text and their buttons (subclasses say how)."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text."""
        await self.post(recipient_id, text, [])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send text with its buttons."""
        await self.post(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image as its link."""
        await self.post(recipient_id, image, [])

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """Send an attachment as a link or text."""
        await self.post(recipient_id, str(attachment), [])

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send cards (such as catalogue results) as one message with their buttons."""
        text, buttons = self.list_elements(elements)
        await self.post(recipient_id, text, buttons)


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


async def latest_offers(tracker_store: TrackerSource, sender_id: str) -> set[str]:
    """The button payloads the bot offered in its latest messages to ``sender_id``."""
    return recent_offers(await tracker_events(tracker_store, sender_id))


def holds_user_message(events: Iterable[Mapping[str, Any]], message_id: str) -> bool:
    """Whether ``events`` hold the user message with ``message_id`` (it was processed)."""
    return any(
        event.get("event") == "user" and event.get("message_id") == message_id for event in events
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


def own_part(custom: Mapping[str, Any], platform: str) -> Mapping[str, Any]:
    """The part of a custom JSON message meant for ``platform``, else the whole message."""
    own = custom.get(platform)
    return own if isinstance(own, Mapping) else custom


def custom_text(
    source: Mapping[str, Any], list_elements: ElementLister
) -> tuple[str, list[dict[str, Any]]]:
    """Readable text and buttons for a custom JSON message.

    ``text`` and ``buttons``, then ``elements`` or ``results`` as a list; anything else is
    shown as ``key: value`` lines rather than raw JSON.
    """
    text = str(source.get("text") or "")
    buttons = [dict(b) for b in source.get("buttons") or [] if isinstance(b, Mapping)]
    items = source.get("elements") or source.get("results")
    if isinstance(items, list):
        listed, more = list_elements(i for i in items if isinstance(i, Mapping))
        text = f"{text}\n{listed}".strip()
        buttons.extend(more)
    if not text and not buttons:
        text = "\n".join(f"{key}: {value}" for key, value in source.items())
    return text, buttons
