"""Bolt middleware and listeners that turn Slack events and button presses into Rasa messages.

- **Direct messages** (``message`` events with ``channel_type`` ``im``): the Rasa
  sender id is the Slack user id (``U…``).
- **Mentions in channels** (``app_mention``): the sender id is ``<channel>-<thread_ts>``.
- **Buttons** (``block_actions``): acknowledged at once; a payload the bot offered in
  its latest messages is passed to Rasa, anything else gets a clear reply.
- **Retries**: every delivery id is recorded in the store's ``inbound_receipts``, so a
  retry, even after a restart, is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rasa.core.channels.channel import UserMessage
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackClientError

from connectors.platform_input import UNKNOWN_BUTTON_TEXT, too_long_text
from connectors.shared import OnNewMessage, latest_offers
from connectors.slack.output import SlackAddress, SlackOutput
from connectors.slack.render import BUTTON_PREFIX, LINK_PREFIX, plain_text
from connectors.slack.settings import CHANNEL
from messaging.logs import set_conversation
from messaging.text_safety import clean_text, neutralize_intent_shortcut

__all__ = ["HANDLED_SUBTYPES", "SlackListeners", "delivery_id"]

logger = logging.getLogger(__name__)

HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast"}


class SlackChannel(Protocol):
    """What the listeners need of the input channel."""

    max_message_chars: int

    def make_output(self) -> SlackOutput:
        """An output channel that posts to Slack."""
        ...

    def record_delivery(self, receipt: str) -> bool:
        """Record a delivery id; False when it was already processed."""
        ...

    async def slowed_down(self, sender: str, reply_to: str) -> bool:
        """Whether ``sender`` is over its rate limit (then told so at ``reply_to``)."""
        ...


def delivery_id(body: dict[str, Any]) -> str | None:
    """The id that identifies a delivery across Slack's retries, if it has one."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return str(body["event_id"])
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{actions[0].get('action_ts', '')}"
    return None


class SlackListeners:
    """Bolt middleware and listeners that turn Slack events into Rasa messages."""

    def __init__(self, channel: SlackChannel, on_new_message: OnNewMessage) -> None:
        self.channel = channel
        self.on_new_message = on_new_message
        self._names: dict[str, str | None] = {}

    async def display_name(self, user: str, context: AsyncBoltContext) -> str | None:
        """The Slack user's display name (else real name), asked once per user with
        ``users.info``; None when Slack does not say (the console then shows
        "Slack (name not known)")."""
        if user in self._names:
            return self._names[user]
        name: str | None = None
        client = context.client
        if client is not None:
            try:
                reply = await client.users_info(user=user)
                found = reply.get("user") or {}
                profile = found.get("profile") or {}
                name = (
                    profile.get("display_name")
                    or profile.get("real_name")
                    or found.get("real_name")
                    or found.get("name")
                    or None
                )
            except (SlackClientError, OSError, asyncio.TimeoutError) as error:
                # A missing users:read scope or a network failure costs only the label.
                logger.info("no Slack display name for a reader: %s", error)
        self._names[user] = clean_text(str(name))[:80] if name else None
        return self._names[user]

    def register(self, app: AsyncApp) -> None:
        """Install the deduplication middleware and the listeners on a Bolt app."""
        app.middleware(self.deduplicate)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.action(re.compile(".*"))(self.on_action)

    @property
    def output(self) -> SlackOutput:
        """Where replies of the channel's own (refusals, notices) go."""
        return self.channel.make_output()

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
        set_conversation(address.sender_id)  # on every log line of this event
        text = plain_text(clean_text(str(event.get("text") or "")), context.bot_user_id)
        if len(text) > self.channel.max_message_chars:
            logger.info("Slack reader sent a message of %d characters", len(text))
            reply = too_long_text(len(text), self.channel.max_message_chars)
            await self.output.send_text_message(address.sender_id, reply)
            return
        if not text:
            return
        if await self.channel.slowed_down(str(event.get("user")), address.sender_id):
            return
        metadata = {
            "slack": {
                "user": event.get("user"),
                "display_name": await self.display_name(str(event.get("user")), context),
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
        return await latest_offers(agent.tracker_store, sender_id)

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
        set_conversation(address.sender_id)
        payload = str(action.get("value") or "")
        known = action_id.startswith(BUTTON_PREFIX) and payload in await self._offered(
            context, address.sender_id
        )
        if not known:
            logger.info("Slack reader pressed a button the bot did not offer (%s)", action_id)
            await self.output.send_text_message(address.sender_id, UNKNOWN_BUTTON_TEXT)
            return
        if await self.channel.slowed_down(user, address.sender_id):
            return
        title = clean_text(str((action.get("text") or {}).get("text") or payload))
        metadata = {
            "slack": {
                "user": user,
                "display_name": await self.display_name(user, context),
                "channel": channel_id,
                "thread_ts": address.thread_ts,
            },
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
