"""Slack channel: a slack_bolt ``AsyncApp`` behind the Sanic adapter, inside the Rasa server.

Mounted by Rasa at ``/webhooks/slack/``:

- ``GET  /``        health (says whether the token and signing secret are configured)
- ``POST /events``  the Events API *and* interactivity (Block Kit button presses)

Bolt verifies every request's signature (``SLACK_SIGNING_SECRET``, v0 HMAC-SHA256,
timestamps older than five minutes refused), answers Slack's ``url_verification``
challenge and ignores the app's own messages. This module adds what Rasa needs:

- **Direct messages** (``message`` events with ``channel_type`` ``im``): the Rasa
  sender id is the Slack user id (``U…``); replies are posted to that id, which is
  the reader's DM with the app.
- **Mentions in channels** (``app_mention``): the sender id is
  ``<channel>-<thread_ts>`` (the mention's own ``ts`` when it starts a thread), so
  the whole thread is one conversation and every reply, proactive ones included,
  goes into that thread. The reader's user id is in the message metadata.
- **Buttons** (``block_actions``): acknowledged at once; a payload the bot offered in
  its latest messages is passed to Rasa, anything else gets a clear reply.
- **Retries**: Slack re-sends an event (with ``X-Slack-Retry-Num``) when it did not
  get an answer in three seconds; every ``event_id`` is recorded in the reader
  store's ``inbound_receipts``, so a retry, even after a restart, is dropped.
- Bot messages, edits and other message subtypes are ignored. Messages over
  ``max_message_chars`` get a clear reply instead of reaching NLU.

Environment: ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_API_BASE_URL`` (a
Web API other than https://slack.com/api/, such as a test stand-in). Without the token
or the secret the channel still loads and its endpoint answers 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_bolt import BoltResponse
from slack_bolt.adapter.sanic import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from connectors.platform_input import PlatformInput
from connectors.slack_render import (
    BUTTON_PREFIX,
    LINK_PREFIX,
    custom_message,
    element_message,
    fallback_text,
    message_blocks,
    plain_text,
)
from crm_store.receipts import first_receipt
from messaging.text_safety import clean_text, neutralize_intent_shortcut, offered_payloads

logger = logging.getLogger(__name__)

CHANNEL = "slack"
RECENT_BOT_MESSAGES = 5
DEFAULT_API_BASE_URL = "https://slack.com/api/"
# Between channel and thread in a sender id. Not ":": the console percent-encodes sender
# ids in Rasa URLs, and Rasa's router does not decode path parameters, so only characters
# that are never encoded (letters, digits, "-", ".", "_", "~") keep an id intact.
THREAD_SEPARATOR = "-"
HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast"}

UNKNOWN_BUTTON_TEXT = (
    "Sorry, that button is no longer available. Please type your question, "
    "or use the buttons under my latest message."
)


def too_long_text(length: int, limit: int) -> str:
    """The reply to a message over the size limit."""
    return (
        f"Sorry, your message is {length} characters long, and I can read at most {limit}. "
        "Please send a shorter message."
    )


@dataclass(frozen=True)
class SlackSettings:
    """The Slack channel's settings, read once from the environment."""

    bot_token: str = ""
    signing_secret: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL

    @classmethod
    def from_env(cls) -> SlackSettings:
        """Read ``SLACK_*`` variables; missing secrets are empty strings."""
        base = os.environ.get("SLACK_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
        return cls(
            bot_token=os.environ.get("SLACK_BOT_TOKEN", "").strip(),
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET", "").strip(),
            api_base_url=base if base.endswith("/") else base + "/",
        )

    @property
    def missing(self) -> list[str]:
        """Names of the variables the endpoint needs and does not have."""
        needed = {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret}
        return [name for name, value in needed.items() if not value]


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


class SlackOutput(OutputChannel):
    """Posts bot, librarian and proactive messages with ``chat.postMessage``."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, as used in ``output_channel=slack``."""
        return CHANNEL

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Post one message with blocks and its readable fallback text."""
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

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text as mrkdwn sections (escaped)."""
        await self.post(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send text with a Block Kit ``actions`` block."""
        await self.post(recipient_id, text, buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image block, with its link as the fallback text."""
        blocks = [{"type": "image", "image_url": image, "alt_text": "image"}]
        await self.post(recipient_id, image, blocks=blocks)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """Send an attachment as a link or text."""
        await self.post(recipient_id, str(attachment))

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send cards (such as catalogue results) as one section each, with their buttons."""
        text, buttons = element_message(elements)
        await self.post(recipient_id, text, buttons)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send Block Kit from a ``slack``/``blocks`` custom message, else its readable form."""
        text, buttons, blocks = custom_message(json_message)
        await self.post(recipient_id, text, buttons, blocks)


def _parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse an Events API (JSON) or interactivity (form ``payload=``) body, or raise."""
    text = body.decode("utf-8")
    if (content_type or "").startswith("application/json") or text.lstrip().startswith("{"):
        parsed = json.loads(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        parsed = json.loads(form["payload"]) if "payload" in form else form
    if not isinstance(parsed, dict):
        raise ValueError("a Slack request body is a JSON object")
    return parsed


class SlackInput(PlatformInput[SlackSettings]):
    """The Slack input channel (Events API and interactivity)."""

    @classmethod
    def name(cls) -> str:
        """URL prefix: ``/webhooks/slack/``."""
        return CHANNEL

    label = "Slack"
    _client: AsyncWebClient | None = None  # made on first use
    _handler: AsyncSlackRequestHandler | None = None  # made on first use

    @classmethod
    def settings_from_env(cls) -> SlackSettings:
        """``SlackSettings`` from the environment."""
        return SlackSettings.from_env()

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client (pointed at ``SLACK_API_BASE_URL``), made on first use."""
        if self._client is None:
            self._client = AsyncWebClient(
                token=self.settings.bot_token, base_url=self.settings.api_base_url
            )
        return self._client

    def get_output_channel(self) -> OutputChannel | None:
        """Channel used for proactive messages (console replies, worker surveys)."""
        if not self.settings.bot_token:
            return None
        return SlackOutput(self.client)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The Sanic blueprint with the health route and the Events/interactivity route."""
        bp = Blueprint("slack_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return self.health()

        @bp.route("/events", methods=["POST"])
        async def events(request: Request) -> HTTPResponse:
            return await self.handle_request(request, on_new_message)

        return bp

    async def handle_request(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Refuse when unconfigured or malformed; otherwise let Bolt verify and dispatch."""
        refusal = self.not_configured()
        if refusal is not None:
            return refusal
        try:
            _parse_body(request.body or b"", request.headers.get("content-type"))
        except (ValueError, KeyError, UnicodeDecodeError, RecursionError) as error:
            # RecursionError: JSON nested thousands deep, which json.loads cannot parse.
            verifier = SignatureVerifier(self.settings.signing_secret)
            if not verifier.is_valid_request(request.body or b"", dict(request.headers)):
                logger.info("refused an unsigned malformed Slack request")
                return response.json({"error": "invalid request"}, status=401)
            logger.warning("rejected a malformed Slack request: %s", str(error)[:200])
            return response.json(
                {"error": "malformed", "message": "the body is not a Slack payload"}, status=400
            )
        agent = getattr(request.app.ctx, "agent", None)
        return await self._bolt(on_new_message).handle(request, {"rasa_agent": agent})

    def _bolt(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> AsyncSlackRequestHandler:
        if self._handler is None:
            app = AsyncApp(
                token=self.settings.bot_token,
                signing_secret=self.settings.signing_secret,
                client=self.client,
                name="reader-interaction-center",
            )
            _Listeners(self, on_new_message).register(app)
            self._handler = AsyncSlackRequestHandler(app)
        return self._handler

    def record_delivery(self, receipt: str) -> bool:
        """Record a delivery id; False when it was already processed."""
        try:
            return first_receipt(self.sessions, CHANNEL, receipt)
        except SQLAlchemyError:
            # Answering the reader matters more than a possible duplicate.
            logger.exception("reader store down; Slack delivery %s not deduplicated", receipt)
            return True


def delivery_id(body: dict[str, Any]) -> str | None:
    """The id that identifies a delivery across Slack's retries, if it has one."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return str(body["event_id"])
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{actions[0].get('action_ts', '')}"
    return None


class _Listeners:
    """Bolt middleware and listeners that turn Slack events into Rasa messages."""

    def __init__(
        self, channel: SlackInput, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        self.channel = channel
        self.on_new_message = on_new_message

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.deduplicate)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.action(re.compile(".*"))(self.on_action)

    @property
    def output(self) -> SlackOutput:
        return SlackOutput(self.channel.client)

    async def deduplicate(
        self, body: dict[str, Any], request: Any, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        receipt = delivery_id(body)
        if receipt is None:
            await next()
            return None
        # The store may be busy (SQLite waits for its lock): keep the event loop free.
        if not await asyncio.to_thread(self.channel.record_delivery, receipt):
            retry = (request.headers.get("x-slack-retry-num") or [""])[0]
            logger.info("dropped duplicate Slack delivery %s (retry %s)", receipt, retry or "-")
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def on_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in HANDLED_SUBTYPES or not event.get("user"):
            return
        address = SlackAddress(str(event["user"]))
        await self._handle_text(event, address, context)

    async def on_mention(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        thread = str(event.get("thread_ts") or event.get("ts") or "")
        address = SlackAddress(str(event.get("channel") or ""), thread or None)
        await self._handle_text(event, address, context)

    async def _handle_text(
        self, event: dict[str, Any], address: SlackAddress, context: AsyncBoltContext
    ) -> None:
        text = plain_text(clean_text(str(event.get("text") or "")), context.bot_user_id)
        if len(text) > self.channel.max_message_chars:
            logger.info("Slack reader sent a message of %d characters", len(text))
            reply = too_long_text(len(text), self.channel.max_message_chars)
            await self.output.send_text_message(address.sender_id, reply)
            return
        if not text:
            return
        metadata = {
            "slack": {
                "user": event.get("user"),
                "channel": event.get("channel"),
                "team": event.get("team"),
                "ts": event.get("ts"),
                "thread_ts": address.thread_ts,
            }
        }
        await self.on_new_message(
            UserMessage(
                neutralize_intent_shortcut(text),
                self.output,
                address.sender_id,
                input_channel=CHANNEL,
                message_id=str(event.get("client_msg_id") or event.get("ts") or "") or None,
                metadata=metadata,
            )
        )

    async def _offered(self, context: AsyncBoltContext, sender_id: str) -> set[str]:
        agent = context.get("rasa_agent")
        if agent is None:
            return set()
        tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
        if tracker is None:
            return set()
        bot_messages = [
            event.as_dict().get("data") or {}
            for event in tracker.events
            if event.type_name == "bot"
        ]
        return offered_payloads(bot_messages[-RECENT_BOT_MESSAGES:])

    async def on_action(
        self,
        ack: Callable[[], Awaitable[Any]],
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        action_id = str(action.get("action_id") or "")
        if action_id.startswith(LINK_PREFIX):
            return  # Slack opened the link; nothing to tell Rasa.
        user = str((body.get("user") or {}).get("id") or "")
        channel_id = str((body.get("channel") or {}).get("id") or "")
        container = body.get("container") or {}
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or container.get("thread_ts")
        if channel_id.startswith("D"):  # a DM: the conversation is the reader's user id
            address = SlackAddress(user)
        else:
            root = thread_ts or message.get("ts") or container.get("message_ts")
            address = SlackAddress(channel_id, str(root))
        payload = str(action.get("value") or "")
        known = action_id.startswith(BUTTON_PREFIX) and payload in await self._offered(
            context, address.sender_id
        )
        if not known:
            logger.info("Slack reader pressed a button the bot did not offer (%s)", action_id)
            await self.output.send_text_message(address.sender_id, UNKNOWN_BUTTON_TEXT)
            return
        title = clean_text(str((action.get("text") or {}).get("text") or payload))
        metadata = {
            "slack": {"user": user, "channel": channel_id, "thread_ts": address.thread_ts},
            "button": True,
            "display_text": title,
        }
        await self.on_new_message(
            UserMessage(
                payload,
                self.output,
                address.sender_id,
                input_channel=CHANNEL,
                message_id=f"slack-action-{action.get('action_ts', '')}",
                metadata=metadata,
            )
        )
