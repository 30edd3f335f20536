"""Replies to a Telegram chat: bot, librarian and proactive messages, as plain text.

Long texts are split at line breaks; buttons become an inline keyboard under the last
part. When Telegram refuses delivery (the reader blocked the bot) the channel is told,
so that the store marks the chat unreachable, and the error is raised to the sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel
from telegram import Bot
from telegram.error import Forbidden

from connectors.telegram.bot import CHANNEL
from connectors.telegram.render import custom_message, element_lines, inline_keyboard, split_text

__all__ = ["TelegramOutput"]

logger = logging.getLogger(__name__)


class TelegramOutput(OutputChannel):
    """Sends bot, librarian and proactive messages to a Telegram chat."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, as used in ``output_channel=telegram``."""
        return CHANNEL

    def __init__(self, bot: Bot, on_blocked: Callable[[str], None] | None = None) -> None:
        self.bot = bot
        self.on_blocked = on_blocked

    async def _send(self, chat_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        # Telegram refuses an empty text, and a keyboard needs a message to hang from.
        parts = split_text(text) or (["Please choose:"] if buttons else [])
        markup = inline_keyboard(buttons)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                await self.bot.send_message(
                    chat_id=chat_id, text=part, reply_markup=markup if last else None
                )
            except Forbidden:
                # The reader blocked the bot (or left the group): stop reaching them here
                # until they write again, and let the sender see the failure.
                logger.info("Telegram refused delivery to a chat: marking it unreachable")
                if self.on_blocked is not None:
                    await asyncio.to_thread(self.on_blocked, chat_id)
                raise

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text (no parse mode, so no markup can break it)."""
        await self._send(recipient_id, text, [])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send text with an inline keyboard, one button per row."""
        await self._send(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image as its link (Telegram shows a preview)."""
        await self._send(recipient_id, image, [])

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """Send an attachment as a link or text."""
        await self._send(recipient_id, str(attachment), [])

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send cards (such as catalogue results) as one numbered list with their buttons."""
        text, buttons = element_lines(elements)
        await self._send(recipient_id, text, buttons)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom message in its readable form (see :func:`custom_message`)."""
        text, buttons = custom_message(json_message)
        await self._send(recipient_id, text, buttons)
