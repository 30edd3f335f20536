"""Replies to a Telegram chat: bot, librarian and proactive messages, as plain text.

Long texts are split at line breaks; buttons become an inline keyboard under the last
part. When Telegram refuses delivery (the reader blocked the bot) the channel is told,
so that the store marks the chat unreachable, and the error is raised to the sender.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from telegram import Bot
from telegram.error import Forbidden

from connectors.shared import PostingOutput
from connectors.telegram.bot import CHANNEL
from connectors.telegram.render import custom_message, element_lines, inline_keyboard, split_text

__all__ = ["TelegramOutput"]

logger = logging.getLogger(__name__)


class TelegramOutput(PostingOutput):
    """Sends bot, librarian and proactive messages to a Telegram chat."""

    channel_name = CHANNEL

    def __init__(self, bot: Bot, on_blocked: Callable[[str], None] | None = None) -> None:
        self.bot = bot
        self.on_blocked = on_blocked

    async def post(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        """Send text (no parse mode, so no markup can break it) with an inline keyboard.

        Long texts go out in parts split at line breaks; the keyboard hangs from the last.
        """
        # Telegram refuses an empty text, and a keyboard needs a message to hang from.
        parts = split_text(text) or (["Please choose:"] if buttons else [])
        markup = inline_keyboard(buttons)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                await self.bot.send_message(
                    chat_id=recipient_id, text=part, reply_markup=markup if last else None
                )
            except Forbidden:
                # The reader blocked the bot (or left the group): stop reaching them here
                # until they write again, and let the sender see the failure.
                logger.info("Telegram refused delivery to a chat: marking it unreachable")
                if self.on_blocked is not None:
                    await asyncio.to_thread(self.on_blocked, recipient_id)
                raise

    def list_elements(
        self, elements: Iterable[Mapping[str, Any]]
    ) -> tuple[str, list[dict[str, Any]]]:
        """Cards (such as catalogue results) as one numbered list, and their buttons."""
        return element_lines(elements)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send a custom message in its readable form (see :func:`custom_message`)."""
        text, buttons = custom_message(json_message)
        await self.post(recipient_id, text, buttons)
