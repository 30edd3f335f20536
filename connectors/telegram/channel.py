"""Telegram channel: Bot API webhooks served inside the Rasa server, python-telegram-bot 22.

Mounted by Rasa at ``/webhooks/telegram/``:

- ``GET  /``         health (says whether the bot token and secret are configured)
- ``POST /webhook``  updates from Telegram

There is no Updater and no polling: Telegram posts each update to the webhook,
which checks the ``X-Telegram-Bot-Api-Secret-Token`` header, drops update ids it
has already accepted (durably, in the reader store's ``inbound_receipts``), and
turns text messages and button presses into ``UserMessage`` objects. Replies go out
through :class:`~connectors.telegram.output.TelegramOutput`, which also serves
proactive messages (librarian replies, surveys) for ``output_channel=telegram``.
Whether a chat can be reached is the store's to record (``crm_store.channels``): a
chat that blocked the bot is unreachable until it writes again.

The Rasa sender id is the Telegram chat id, as a string. Register the webhook with
``python -m connectors.telegram set-webhook`` (see ``docs/channels/telegram.md``).

Environment: ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_SECRET_TOKEN``,
``TELEGRAM_API_BASE_URL`` (a Bot API server other than api.telegram.org, such as a
test stand-in), ``TELEGRAM_WEBHOOK_URL`` (for the registration command).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, CallbackQuery, Update
from telegram import Message as TelegramMessage
from telegram.error import TelegramError

from connectors.platform_input import UNKNOWN_BUTTON_TEXT, PlatformInput, too_long_text
from connectors.shared import OnNewMessage, latest_offers
from connectors.telegram.bot import CHANNEL, TelegramSettings, make_bot
from connectors.telegram.output import TelegramOutput
from connectors.telegram.render import resolve_callback
from messaging.logs import set_conversation
from messaging.text_safety import clean_text, neutralize_intent_shortcut

__all__ = ["NOT_TEXT_TEXT", "SECRET_HEADER", "TelegramInput"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

NOT_TEXT_TEXT = "Sorry, I can only read text messages. Please type your question."
# Telegram sends "/start" when a reader opens the bot for the first time.
COMMAND_TEXTS = {"/start": "hello", "/help": "help"}


class TelegramInput(PlatformInput[TelegramSettings]):
    """The Telegram input channel (webhook only)."""

    channel_name = CHANNEL
    label = "Telegram"
    settings_class = TelegramSettings
    _bot: Bot | None = None  # made on first use

    @property
    def bot(self) -> Bot:
        """The Bot API client, made on first use (inside the server's event loop)."""
        if self._bot is None:
            self._bot = make_bot(self.settings)
        return self._bot

    def make_output(self) -> TelegramOutput:
        """Sends to Telegram; a chat that refuses delivery is marked unreachable."""
        return TelegramOutput(self.bot, self.mark_blocked)

    def _refusal(self, request: Request) -> HTTPResponse | None:
        refusal = self.not_configured()
        if refusal is not None:
            return refusal
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            logger.info("refused a Telegram webhook call without the secret token header")
            return response.json(
                {"error": "unauthorized", "message": f"missing {SECRET_HEADER} header"},
                status=401,
            )
        if not hmac.compare_digest(given.encode(), self.settings.secret_token.encode()):
            logger.info("refused a Telegram webhook call with a wrong secret token")
            return response.json(
                {"error": "forbidden", "message": "wrong secret token"}, status=403
            )
        return None

    async def handle(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Check, parse, deduplicate and process one update."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        try:
            data = json.loads(request.body or b"")
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
            update = Update.de_json(data, self.bot)
            check_field_types(update)
        except Exception as error:  # any shape of bad body is the sender's fault, never ours
            logger.warning("rejected a malformed Telegram update: %s", str(error)[:200])
            return response.json(
                {"error": "malformed", "message": "the body is not a Telegram update"},
                status=400,
            )
        receipt = str(update.update_id)
        # The store may be busy (SQLite waits for its lock): keep the event loop free.
        if not await asyncio.to_thread(self.record_delivery, receipt):
            logger.info("dropped duplicate Telegram update %s", receipt)
            return response.json({"status": "duplicate"})
        try:
            await self._process(request, update, on_new_message)
        except Exception:
            logger.exception("could not process Telegram update %s", receipt)
            await asyncio.to_thread(self.forget_delivery, receipt)
            return response.json(
                {"error": "server_error", "message": "the update could not be processed"},
                status=500,
            )
        return response.json({"status": "ok"})

    async def _process(
        self,
        request: Request,
        update: Update,
        on_new_message: OnNewMessage,
    ) -> None:
        if update.callback_query is not None:
            await self._handle_callback(request, update.callback_query, on_new_message)
        elif update.message is not None:
            await self._handle_message(update.update_id, update.message, on_new_message)
        else:
            logger.debug("ignored a Telegram update of another kind")

    def _user_message(
        self, text: str, chat_id: str, message_id: str, metadata: dict[str, Any]
    ) -> UserMessage:
        return UserMessage(
            text,
            self.make_output(),
            chat_id,
            input_channel=CHANNEL,
            message_id=message_id,
            metadata=metadata,
        )

    async def _handle_message(
        self,
        update_id: int,
        message: TelegramMessage,
        on_new_message: OnNewMessage,
    ) -> None:
        chat_id = str(message.chat.id)
        set_conversation(chat_id)  # on every log line of this update
        output = self.make_output()
        if message.text is None:
            await output.send_text_message(chat_id, NOT_TEXT_TEXT)
            return
        text = clean_text(message.text)
        if len(text) > self.max_message_chars:
            logger.info("Telegram chat sent a message of %d characters", len(text))
            await output.send_text_message(
                chat_id, too_long_text(len(text), self.max_message_chars)
            )
            return
        if not text.strip():
            return
        if await self.slowed_down(chat_id, chat_id):
            return
        command = text.strip().split("@", 1)[0].lower()
        text = COMMAND_TEXTS.get(command, text)
        metadata = {"telegram": _sender_metadata(message, update_id)}
        await asyncio.to_thread(self.mark_writing, chat_id)
        await on_new_message(
            self._user_message(
                neutralize_intent_shortcut(text), chat_id, f"tg-{update_id}", metadata
            )
        )

    def mark_blocked(self, chat_id: str) -> None:
        """Telegram refuses delivery to ``chat_id``: the store marks it unreachable."""
        self.record_reachability(chat_id, reachable=False)

    def mark_writing(self, chat_id: str) -> None:
        """A chat that writes to the bot can be reached again."""
        self.record_reachability(chat_id, reachable=True)

    async def _handle_callback(
        self,
        request: Request,
        query: CallbackQuery,
        on_new_message: OnNewMessage,
    ) -> None:
        message = query.message
        chat_id = str(message.chat.id if message is not None else query.from_user.id)
        set_conversation(chat_id)
        offered = await latest_offers(request.app.ctx.agent.tracker_store, chat_id)
        payload = resolve_callback(query.data or "", offered)
        try:
            await self.bot.answer_callback_query(
                query.id, text=None if payload is not None else "That button has expired."
            )
        except TelegramError as error:
            # The reader's choice still counts when the spinner cannot be stopped.
            logger.warning("could not answer Telegram callback query: %s", error)
        if payload is None:
            logger.info("Telegram chat pressed a button the bot did not offer")
            await self.make_output().send_text_message(chat_id, UNKNOWN_BUTTON_TEXT)
            return
        if await self.slowed_down(chat_id, chat_id):
            return
        title = _button_title(message, query.data or "")
        metadata = {
            "telegram": {
                "callback_query_id": query.id,
                "user_id": query.from_user.id,
                "username": query.from_user.username,
            },
            "button": True,
            "display_text": clean_text(title or payload),
        }
        await on_new_message(self._user_message(payload, chat_id, f"tg-cb-{query.id}", metadata))


def check_field_types(update: Update | None) -> None:
    """Refuse an update whose fields have the wrong JSON types.

    python-telegram-bot builds an ``Update`` from whatever JSON it is given; a text that
    is a list, or a chat id that is null, would otherwise fail deep in processing as a
    500 (found by tests/trust/test_fuzz_webhooks.py, issue 18).

    Raises:
        ValueError: a field the channel reads has the wrong type.
    """
    if update is None or not isinstance(update.update_id, int):
        raise ValueError("update_id must be an integer")
    message, callback = update.message, update.callback_query
    if message is not None:
        if not isinstance(message.chat.id, int):
            raise ValueError("message.chat.id must be an integer")
        if message.text is not None and not isinstance(message.text, str):
            raise ValueError("message.text must be a string")
    if callback is not None and not isinstance(callback.data, str | None):
        raise ValueError("callback_query.data must be a string")


def _sender_metadata(message: TelegramMessage, update_id: int) -> dict[str, Any]:
    user = message.from_user
    return {
        "update_id": update_id,
        "message_id": message.message_id,
        "chat_type": message.chat.type,
        "user_id": user.id if user else None,
        "username": user.username if user else None,
        "language_code": user.language_code if user else None,
    }


def _button_title(message: Any, data: str) -> str | None:
    """The title of the pressed button, read from the message's own keyboard."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if getattr(button, "callback_data", None) == data:
                return str(button.text)
    return None
