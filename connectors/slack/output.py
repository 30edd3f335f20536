"""Messages to Slack: bot, librarian and proactive messages, posted with ``chat.postMessage``.

A conversation's sender id says where its replies go (:class:`SlackAddress`): a user id
is the reader's DM with the app; ``<channel>-<thread_ts>`` is a thread in a channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ImageBlock
from slack_sdk.web.async_client import AsyncWebClient

from connectors.shared import PostingOutput
from connectors.slack.render import custom_message, element_message, fallback_text, message_blocks
from connectors.slack.settings import CHANNEL

__all__ = ["THREAD_SEPARATOR", "SlackAddress", "SlackOutput"]

# Between channel and thread in a sender id. Not ":": the console percent-encodes sender
# ids in Rasa URLs, and Rasa's router does not decode path parameters, so only characters
# that are never encoded (letters, digits, "-", ".", "_", "~") keep an id intact.
THREAD_SEPARATOR = "-"


@dataclass(frozen=True)
class SlackAddress:
    """Where a conversation's replies go: a channel (or user id for a DM) and a thread."""

    channel: str
    thread_ts: str | None = None

    @classmethod
    def from_sender_id(cls, sender_id: str) -> SlackAddress:
        """``U123`` is a DM with that user; ``C123-1700000000.000100`` is a thread."""
        channel, _, thread_ts = sender_id.partition(THREAD_SEPARATOR)
        return cls(channel, thread_ts or None)

    @property
    def sender_id(self) -> str:
        """The Rasa sender id of this address."""
        if not self.thread_ts:
            return self.channel
        return f"{self.channel}{THREAD_SEPARATOR}{self.thread_ts}"


class SlackOutput(PostingOutput):
    """Posts bot, librarian and proactive messages with ``chat.postMessage``."""

    channel_name = CHANNEL

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Post one message with blocks (text as escaped mrkdwn sections, buttons as an
        ``actions`` block) and its readable fallback text."""
        address = SlackAddress.from_sender_id(recipient_id)
        buttons = buttons or []
        kwargs: dict[str, Any] = {}
        if address.thread_ts:
            kwargs["thread_ts"] = address.thread_ts
        await self.client.chat_postMessage(
            channel=address.channel,
            text=fallback_text(text, buttons),
            blocks=blocks if blocks is not None else message_blocks(text, buttons),
            unfurl_links=False,
            **kwargs,
        )

    def list_elements(
        self, elements: Iterable[Mapping[str, Any]]
    ) -> tuple[str, list[dict[str, Any]]]:
        """Cards (such as catalogue results) as bullet lines, one section each, and buttons."""
        return element_message(elements)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image block, with its link as the fallback text."""
        blocks = [ImageBlock(image_url=image, alt_text="image").to_dict()]
        await self.post(recipient_id, image, blocks=blocks)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send Block Kit from a ``slack``/``blocks`` custom message, else its readable form."""
        text, buttons, blocks = custom_message(json_message)
        await self.post(recipient_id, text, buttons, blocks)
