"""A librarian's typing, shown in the reader's Telegram chat (``sendChatAction``).

The web chat reads a librarian's typing from the reader store
(:mod:`crm_store.typing_signals`); Telegram has no such pull, so the console pushes it:
each time a librarian reports typing a reply in a Telegram conversation, the console
calls :meth:`TelegramTyping.show` with the chat id, which asks the Bot API for
``sendChatAction`` with ``action=typing``. Telegram shows "typing…" for about five
seconds, or until the next message from the bot arrives, so one call every
:data:`EVERY_SECONDS` per chat keeps it up while the librarian types; the calls in
between are dropped here (a ``limits`` moving window on ``RIC_RATE_LIMIT_STORAGE``, so
several console processes sharing a Redis storage share the allowance too).

The client is the Telegram channel's own (:func:`telegram_bot`: ``TELEGRAM_BOT_TOKEN``
and ``TELEGRAM_API_BASE_URL``, :mod:`connectors.telegram.bot` builds its bot the same
way). Typing is a hint: a Bot API that fails, refuses or is slow (each call waits at
most :data:`TIMEOUT_SECONDS` per phase) is logged and forgotten, never raised to the
console. Without a bot token nothing is sent.

Slack has no typing indicator a bot may set, and email has none at all, so a
librarian's typing shows on the web chat and Telegram only (``docs/console.md``).
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from messaging.rate_limits import RateLimits
from ric_config import RateLimitConfig, TelegramConfig

__all__ = ["EVERY_SECONDS", "TIMEOUT_SECONDS", "TelegramTyping", "telegram_bot"]

logger = logging.getLogger(__name__)

EVERY_SECONDS = 4
"""At most one ``sendChatAction`` per chat in this many seconds (Telegram shows it ~5 s)."""
TIMEOUT_SECONDS = 3.0
"""The longest a typing call waits to connect, to send and to read the answer."""
SCOPE = "telegram_typing"


def telegram_bot(token: str, api_base_url: str = "") -> Bot:
    """A ``telegram.Bot`` for ``token``, pointed at ``api_base_url`` when it is set.

    Args:
        token: the bot token (``TELEGRAM_BOT_TOKEN``).
        api_base_url: another Bot API server than api.telegram.org, such as a test
            stand-in (``TELEGRAM_API_BASE_URL``); empty for Telegram's own.
    """
    if not api_base_url:
        return Bot(token)
    base = api_base_url.rstrip("/")
    return Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


class TelegramTyping:
    """Sends ``sendChatAction typing`` to Telegram chats, at most once per chat and window.

    Args:
        token: the bot token; empty turns the relay off (:attr:`enabled` is false).
        api_base_url: the Bot API server (empty: api.telegram.org).
        storage: the ``limits`` storage of the per-chat window (``memory://``, a Redis URL).

    Raises:
        ValueError: ``storage`` cannot be used.
    """

    def __init__(self, token: str, api_base_url: str = "", storage: str = "memory://") -> None:
        self._token = token
        self._api_base_url = api_base_url
        self._bot: Bot | None = None  # made on first use, inside the server's event loop
        self.limits = RateLimits({SCOPE: f"1/{EVERY_SECONDS} seconds"}, storage)

    @classmethod
    def from_env(cls) -> TelegramTyping:
        """The relay for the Telegram channel's settings and the rate-limit storage."""
        telegram = TelegramConfig()
        return cls(
            telegram.bot_token.get_secret_value(),
            telegram.api_base_url,
            RateLimitConfig().storage,
        )

    @property
    def enabled(self) -> bool:
        """Whether a bot token is configured (without one nothing is sent)."""
        return bool(self._token)

    @property
    def bot(self) -> Bot:
        """The Bot API client, made on first use."""
        if self._bot is None:
            self._bot = telegram_bot(self._token, self._api_base_url)
        return self._bot

    async def show(self, chat_id: str) -> bool:
        """Show "typing…" in the chat unless it was shown in the last ``EVERY_SECONDS``.

        Never raises: a refused or failed call is logged and the librarian's typing
        simply does not show.

        Returns:
            Whether Telegram accepted a ``sendChatAction`` call made now.
        """
        if not self.enabled:
            return False
        try:
            admission = await self.limits.admit({SCOPE: chat_id})
        except Exception:  # the window's storage (Redis) is down: typing is only a hint
            logger.exception("could not check the Telegram typing window")
            return False
        if not admission.allowed:
            return False
        try:
            return await self.bot.send_chat_action(
                chat_id=chat_id,
                action=ChatAction.TYPING,
                connect_timeout=TIMEOUT_SECONDS,
                write_timeout=TIMEOUT_SECONDS,
                read_timeout=TIMEOUT_SECONDS,
                pool_timeout=TIMEOUT_SECONDS,
            )
        except TelegramError as error:
            logger.warning("Telegram refused or failed a typing indicator: %s", error)
        except Exception:  # a typing hint must never fail the librarian's request
            logger.exception("could not show a librarian's typing on Telegram")
        return False

    async def close(self) -> None:
        """Close the client's connections (when one was made)."""
        if self._bot is not None:
            await self._bot.request.shutdown()
            self._bot = None
