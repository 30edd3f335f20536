"""The Telegram channel: Bot API webhooks served inside the Rasa server.

Rasa loads :class:`TelegramInput` from ``credentials.yml`` (``connectors.telegram.TelegramInput``).
Modules: :mod:`~connectors.telegram.channel` (the webhook), :mod:`~connectors.telegram.output`
(replies), :mod:`~connectors.telegram.render` (pure translation to Bot API shapes),
:mod:`~connectors.telegram.bot` (settings and the Bot API client) and
``python -m connectors.telegram`` (:mod:`~connectors.telegram.__main__`: register the
webhook and check the connection).
"""

from __future__ import annotations

from connectors.telegram.bot import TelegramSettings, make_bot
from connectors.telegram.channel import TelegramInput
from connectors.telegram.output import TelegramOutput

__all__ = ["TelegramInput", "TelegramOutput", "TelegramSettings", "make_bot"]
