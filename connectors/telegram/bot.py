"""The Telegram channel's settings and its Bot API client.

Environment: ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_SECRET_TOKEN``,
``TELEGRAM_API_BASE_URL`` (a Bot API server other than api.telegram.org, such as a
test stand-in), ``TELEGRAM_WEBHOOK_URL`` (for the registration command).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Bot

from messaging.telegram_typing import telegram_bot
from ric_config import TelegramConfig

__all__ = ["ALLOWED_UPDATES", "CHANNEL", "TelegramSettings", "make_bot"]

CHANNEL = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
"""The update kinds the webhook handles, and so asks Telegram for."""


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel's settings, read once from the environment."""

    bot_token: str = field(default="", repr=False)
    secret_token: str = field(default="", repr=False)
    api_base_url: str = ""
    webhook_url: str = ""

    @classmethod
    def from_env(cls) -> TelegramSettings:
        """Read ``TELEGRAM_*`` variables; missing ones are empty strings."""
        config = TelegramConfig()
        return cls(
            bot_token=config.bot_token.get_secret_value(),
            secret_token=config.secret_token.get_secret_value(),
            api_base_url=config.api_base_url,
            webhook_url=config.webhook_url,
        )

    @property
    def missing(self) -> list[str]:
        """Names of the variables the webhook needs and does not have."""
        needed = {"TELEGRAM_BOT_TOKEN": self.bot_token, "TELEGRAM_SECRET_TOKEN": self.secret_token}
        return [name for name, value in needed.items() if not value]


def make_bot(settings: TelegramSettings) -> Bot:
    """A ``telegram.Bot`` for the settings' token, pointed at ``TELEGRAM_API_BASE_URL`` if set.

    The console's typing indicator (:mod:`messaging.telegram_typing`) builds its client
    with the same function, so both talk to the same Bot API server.
    """
    return telegram_bot(settings.bot_token, settings.api_base_url)
