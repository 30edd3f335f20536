"""Telegram channel: Bot API webhooks served inside the Rasa server, python-telegram-bot 22.

Mounted by Rasa at ``/webhooks/telegram/``:

- ``GET  /``         health (says whether the bot token and secret are configured)
- ``POST /webhook``  updates from Telegram

There is no Updater and no polling: Telegram posts each update to the webhook,
which checks the ``X-Telegram-Bot-Api-Secret-Token`` header, drops update ids it
has already accepted (durably, in the reader store's ``inbound_receipts``), and
turns text messages and button presses into ``UserMessage`` objects. Replies go out
through :class:`TelegramOutput`, which also serves proactive messages (librarian
replies, surveys) for ``output_channel=telegram``.

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
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, CallbackQuery, Update
from telegram import Message as TelegramMessage
from telegram.error import Forbidden, TelegramError

from connectors.platform_input import PlatformInput
from connectors.telegram_render import (
    custom_message,
    element_lines,
    inline_keyboard,
    resolve_callback,
    split_text,
)
from crm_store.identities import mark_reachable, mark_unreachable
from crm_store.models import ChannelIdentity
from crm_store.receipts import first_receipt, forget_receipt
from messaging.text_safety import clean_text, neutralize_intent_shortcut, offered_payloads

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
RECENT_BOT_MESSAGES = 5
ALLOWED_UPDATES = ("message", "callback_query")

UNKNOWN_BUTTON_TEXT = (
    "Sorry, that button is no longer available. Please type your question, "
    "or use the buttons under my latest message."
)
NOT_TEXT_TEXT = "Sorry, I can only read text messages. Please type your question."
# Telegram sends "/start" when a reader opens the bot for the first time.
COMMAND_TEXTS = {"/start": "hello", "/help": "help"}


def too_long_text(length: int, limit: int) -> str:
    """The reply to a message over the size limit."""
    return (
        f"Sorry, your message is {length} characters long, and I can read at most {limit}. "
        "Please send a shorter message."
    )


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel's settings, read once from the environment."""

    bot_token: str = ""
    secret_token: str = ""
    api_base_url: str = ""
    webhook_url: str = ""

    @classmethod
    def from_env(cls) -> TelegramSettings:
        """Read ``TELEGRAM_*`` variables; missing ones are empty strings."""
        return cls(
            bot_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
            secret_token=os.environ.get("TELEGRAM_SECRET_TOKEN", "").strip(),
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL", "").strip(),
            webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        )

    @property
    def missing(self) -> list[str]:
        """Names of the variables the webhook needs and does not have."""
        needed = {"TELEGRAM_BOT_TOKEN": self.bot_token, "TELEGRAM_SECRET_TOKEN": self.secret_token}
        return [name for name, value in needed.items() if not value]


def make_bot(settings: TelegramSettings) -> Bot:
    """A ``telegram.Bot`` for the settings' token, pointed at ``TELEGRAM_API_BASE_URL`` if set."""
    if not settings.api_base_url:
        return Bot(settings.bot_token)
    base = settings.api_base_url.rstrip("/")
    return Bot(settings.bot_token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


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


class TelegramInput(PlatformInput[TelegramSettings]):
    """The Telegram input channel (webhook only)."""

    @classmethod
    def name(cls) -> str:
        """URL prefix: ``/webhooks/telegram/``."""
        return CHANNEL

    label = "Telegram"
    _bot: Bot | None = None  # made on first use

    @classmethod
    def settings_from_env(cls) -> TelegramSettings:
        """``TelegramSettings`` from the environment."""
        return TelegramSettings.from_env()

    @property
    def bot(self) -> Bot:
        """The Bot API client, made on first use (inside the server's event loop)."""
        if self._bot is None:
            self._bot = make_bot(self.settings)
        return self._bot

    def get_output_channel(self) -> OutputChannel | None:
        """Channel used for proactive messages (console replies, worker surveys)."""
        if not self.settings.bot_token:
            return None
        return TelegramOutput(self.bot, self.mark_blocked)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The Sanic blueprint with the health route and the webhook."""
        bp = Blueprint("telegram_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return self.health()

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.handle_webhook(request, on_new_message)

        return bp

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

    async def handle_webhook(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Check, parse, deduplicate and process one update."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        try:
            data = json.loads(request.body or b"")
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
            update = Update.de_json(data, self.bot)
        except Exception as error:  # any shape of bad body is the sender's fault, never ours
            logger.warning("rejected a malformed Telegram update: %s", str(error)[:200])
            return response.json(
                {"error": "malformed", "message": "the body is not a Telegram update"},
                status=400,
            )
        receipt = str(update.update_id)
        # The store may be busy (SQLite waits for its lock): keep the event loop free.
        if not await asyncio.to_thread(self._first_receipt, receipt):
            logger.info("dropped duplicate Telegram update %s", receipt)
            return response.json({"status": "duplicate"})
        try:
            await self._process(request, update, on_new_message)
        except Exception:
            logger.exception("could not process Telegram update %s", receipt)
            await asyncio.to_thread(self._forget_receipt, receipt)
            return response.json(
                {"error": "server_error", "message": "the update could not be processed"},
                status=500,
            )
        return response.json({"status": "ok"})

    def _first_receipt(self, receipt: str) -> bool:
        try:
            return first_receipt(self.sessions, CHANNEL, receipt)
        except SQLAlchemyError:
            # Answering the reader matters more than a possible duplicate.
            logger.exception(
                "reader store unavailable; Telegram update %s not deduplicated", receipt
            )
            return True

    def _forget_receipt(self, receipt: str) -> None:
        try:
            forget_receipt(self.sessions, CHANNEL, receipt)
        except SQLAlchemyError:
            logger.exception("could not forget Telegram update %s", receipt)

    async def _process(
        self,
        request: Request,
        update: Update,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
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
            TelegramOutput(self.bot, self.mark_blocked),
            chat_id,
            input_channel=CHANNEL,
            message_id=message_id,
            metadata=metadata,
        )

    async def _handle_message(
        self,
        update_id: int,
        message: TelegramMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        chat_id = str(message.chat.id)
        output = TelegramOutput(self.bot, self.mark_blocked)
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
        """Record in the reader store that Telegram refuses delivery to ``chat_id``."""
        try:
            with self.sessions.begin() as session:
                mark_unreachable(session, CHANNEL, chat_id)
        except SQLAlchemyError:
            logger.exception("could not mark a Telegram chat unreachable")

    def mark_writing(self, chat_id: str) -> None:
        """A chat that writes to the bot can be reached again."""
        try:
            with self.sessions() as session:
                blocked = session.execute(
                    select(ChannelIdentity.id).where(
                        ChannelIdentity.channel == CHANNEL,
                        ChannelIdentity.external_id == chat_id,
                        ChannelIdentity.reachable.is_(False),
                    )
                ).first()
            if blocked is None:
                return  # the common case costs one read and no write
            with self.sessions.begin() as session:
                mark_reachable(session, CHANNEL, chat_id)
        except SQLAlchemyError:
            logger.exception("could not mark a Telegram chat reachable")

    async def _offered(self, request: Request, sender_id: str) -> set[str]:
        tracker = await request.app.ctx.agent.tracker_store.retrieve_full_tracker(sender_id)
        if tracker is None:
            return set()
        bot_messages = [
            event.as_dict().get("data") or {}
            for event in tracker.events
            if event.type_name == "bot"
        ]
        return offered_payloads(bot_messages[-RECENT_BOT_MESSAGES:])

    async def _handle_callback(
        self,
        request: Request,
        query: CallbackQuery,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        message = query.message
        chat_id = str(message.chat.id if message is not None else query.from_user.id)
        payload = resolve_callback(query.data or "", await self._offered(request, chat_id))
        try:
            await self.bot.answer_callback_query(
                query.id, text=None if payload is not None else "That button has expired."
            )
        except TelegramError as error:
            # The reader's choice still counts when the spinner cannot be stopped.
            logger.warning("could not answer Telegram callback query: %s", error)
        if payload is None:
            logger.info("Telegram chat pressed a button the bot did not offer")
            await TelegramOutput(self.bot, self.mark_blocked).send_text_message(
                chat_id, UNKNOWN_BUTTON_TEXT
            )
            return
        title = _button_title(message, query.data or "")
        metadata = {
            "telegram": {"callback_query_id": query.id, "user_id": query.from_user.id},
            "button": True,
            "display_text": clean_text(title or payload),
        }
        await on_new_message(self._user_message(payload, chat_id, f"tg-cb-{query.id}", metadata))


def _sender_metadata(message: TelegramMessage, update_id: int) -> dict[str, Any]:
    user = message.from_user
    return {
        "update_id": update_id,
        "message_id": message.message_id,
        "chat_type": message.chat.type,
        "user_id": user.id if user else None,
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


if __name__ == "__main__":
    from connectors.telegram_cli import main

    raise SystemExit(main())
