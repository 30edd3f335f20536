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

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_bolt.adapter.sanic import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from connectors.platform_input import PlatformInput
from connectors.shared import OnNewMessage
from connectors.slack.listeners import SlackListeners
from connectors.slack.output import SlackOutput
from connectors.slack.settings import CHANNEL, SlackSettings

__all__ = ["SlackInput", "parse_body"]

logger = logging.getLogger(__name__)


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse an Events API (JSON) or interactivity (form ``payload=``) body, or raise."""
    text = body.decode("utf-8")
    if (content_type or "").startswith("application/json") or text.lstrip().startswith("{"):
        parsed = json.loads(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        parsed = json.loads(form["payload"]) if "payload" in form else form
    if not isinstance(parsed, dict):
        raise ValueError("a Slack request body is a JSON object")
    check_shape(parsed)
    return parsed


_ID_FIELDS = ("user", "channel", "team", "enterprise", "container")


def check_shape(payload: dict[str, Any]) -> None:
    """Refuse a payload whose fields Bolt reads have the wrong JSON types.

    Bolt reads the user, channel and team of every request before any listener runs; a
    ``user`` that is a number made it raise, a 500 (found by
    tests/trust/test_fuzz_webhooks.py, issue 18).

    Raises:
        ValueError: ``event`` is not an object, an id field is neither text nor an
            object, ``authorizations`` is not a list of objects, or a text is not text.
    """
    event = payload.get("event")
    if event is not None and not isinstance(event, dict):
        raise ValueError("'event' must be an object")
    for part in (payload, event or {}):
        for name in _ID_FIELDS:
            value = part.get(name)
            if value is not None and not isinstance(value, str | dict):
                raise ValueError(f"'{name}' must be a string or an object")
        if part.get("text") is not None and not isinstance(part["text"], str):
            raise ValueError("'text' must be a string")
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise ValueError("'authorizations' must be a list of objects")


class SlackInput(PlatformInput[SlackSettings]):
    """The Slack input channel (Events API and interactivity)."""

    channel_name = CHANNEL
    label = "Slack"
    settings_class = SlackSettings
    webhook_path = "/events"  # the Events API and interactivity alike
    _client: AsyncWebClient | None = None  # made on first use
    _handler: AsyncSlackRequestHandler | None = None  # made on first use

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client (pointed at ``SLACK_API_BASE_URL``), made on first use."""
        if self._client is None:
            self._client = AsyncWebClient(
                token=self.settings.bot_token, base_url=self.settings.api_base_url
            )
        return self._client

    def make_output(self) -> SlackOutput:
        """Posts to Slack with the channel's Web API client."""
        return SlackOutput(self.client)

    async def handle(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Refuse when unconfigured or malformed; otherwise let Bolt verify and dispatch."""
        refusal = self.not_configured()
        if refusal is not None:
            return refusal
        try:
            parse_body(request.body or b"", request.headers.get("content-type"))
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

    def _bolt(self, on_new_message: OnNewMessage) -> AsyncSlackRequestHandler:
        if self._handler is None:
            app = AsyncApp(
                token=self.settings.bot_token,
                signing_secret=self.settings.signing_secret,
                client=self.client,
                name="reader-interaction-center",
            )
            SlackListeners(self, on_new_message).register(app)
            self._handler = AsyncSlackRequestHandler(app)
        return self._handler
