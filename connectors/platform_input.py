"""What the Telegram and Slack input channels share: secrets from the environment,
a message-size limit from ``credentials.yml``, reader-store sessions made on first use,
the health and "not configured" answers of a channel loaded without its secrets, the
blueprint (``GET /`` health, ``POST`` webhook), durable deduplication of deliveries,
reachability records, the replies to a message too long or a button not offered, and
the rate limit per chat or user (``RIC_RATE_LIMIT_TELEGRAM``, ``RIC_RATE_LIMIT_SLACK``).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.shared import ChannelNamed, OnNewMessage
from crm_store import channels
from crm_store.db import database_url, make_engine, make_session_factory
from messaging.rate_limits import RateLimits, channel_limits, slow_down_text
from messaging.text_safety import MAX_MESSAGE_CHARS
from ric_config import RateLimitConfig

__all__ = [
    "UNKNOWN_BUTTON_TEXT",
    "PlatformInput",
    "PlatformSettings",
    "too_long_text",
]

logger = logging.getLogger(__name__)

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


class PlatformSettings(Protocol):
    """The part of a platform's settings the shared code reads."""

    @classmethod
    def from_env(cls) -> PlatformSettings:
        """The settings, read from the environment."""
        ...

    @property
    def bot_token(self) -> str:
        """The token the platform's API client sends; empty when unset."""
        ...

    @property
    def missing(self) -> list[str]:
        """Names of the environment variables the channel needs and does not have."""
        ...


S = TypeVar("S", bound=PlatformSettings)


class PlatformInput(ChannelNamed, InputChannel, Generic[S]):  # type: ignore[misc]
    """Base of an input channel for a chat platform that calls our webhook."""

    label: ClassVar[str] = "platform"
    """The platform's name in log lines and refusals ("Telegram", "Slack")."""

    webhook_path: ClassVar[str] = "/webhook"
    """Where the platform posts its deliveries, below the channel's URL prefix."""

    settings_class: ClassVar[type[PlatformSettings]]
    """The platform's settings class (its ``from_env()`` reads the environment)."""

    @classmethod
    def settings_from_env(cls) -> S:
        """The platform's settings, read from the environment."""
        return cast(S, cls.settings_class.from_env())

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PlatformInput[S]:
        """Build the channel from its ``credentials.yml`` entry and the environment."""
        credentials = credentials or {}
        return cls(max_message_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS))

    def __init__(
        self,
        settings: S | None = None,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.settings: S = settings if settings is not None else self.settings_from_env()
        self.max_message_chars = max_message_chars
        self._sessions = sessions
        self.rate_limits: RateLimits = channel_limits(self.channel_name)
        # One "slow down" reply per sender and minute, however fast the flood.
        self.slow_down_notices = RateLimits(
            {"notice": "1/minute"}, RateLimitConfig().storage, {"notice": "notice"}
        )
        if self.settings.missing:
            logger.warning(
                "%s channel loaded without %s: its webhook answers 503",
                self.label,
                " and ".join(self.settings.missing),
            )

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Reader-store sessions for durable deduplication, made on first use."""
        if self._sessions is None:
            self._sessions = make_session_factory(make_engine(database_url()))
        return self._sessions

    def health(self) -> HTTPResponse:
        """``GET /webhooks/<channel>/``: up, and whether the secrets are there."""
        return response.json(
            {"status": "ok", "channel": self.name(), "configured": not self.settings.missing}
        )

    def not_configured(self) -> HTTPResponse | None:
        """The 503 for a channel loaded without its secrets; None when configured."""
        settings = self.settings
        if not settings.missing:
            return None
        return response.json(
            {
                "error": "not_configured",
                "message": f"The {self.label} channel is not configured: set "
                + " and ".join(settings.missing)
                + ".",
            },
            status=503,
        )

    def make_output(self) -> OutputChannel:
        """The platform's output channel (subclasses say how)."""
        raise NotImplementedError

    async def handle(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Answer one ``POST`` to the webhook (subclasses say how)."""
        raise NotImplementedError

    def get_output_channel(self) -> OutputChannel | None:
        """Channel used for proactive messages (console replies, worker surveys)."""
        if not self.settings.bot_token:
            return None
        return self.make_output()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic blueprint with the health route and the webhook."""
        bp = Blueprint(f"{self.name()}_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return self.health()

        async def webhook(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(webhook, self.webhook_path, methods=["POST"])
        return bp

    def record_delivery(self, receipt: str) -> bool:
        """Record a delivery id; False when it was already processed."""
        try:
            return channels.first_receipt(self.sessions, self.name(), receipt)
        except SQLAlchemyError:
            # Answering the reader matters more than a possible duplicate.
            logger.exception(
                "reader store unavailable; %s delivery %s not deduplicated", self.label, receipt
            )
            return True

    def forget_delivery(self, receipt: str) -> None:
        """Forget a delivery id, so that the platform's retry of it is processed."""
        try:
            channels.forget_receipt(self.sessions, self.name(), receipt)
        except SQLAlchemyError:
            logger.exception("could not forget %s delivery %s", self.label, receipt)

    def record_reachability(self, external_id: str, *, reachable: bool) -> None:
        """Tell the store whether the platform delivers to ``external_id`` (never raises)."""
        try:
            with self.sessions.begin() as session:
                channels.record_reachability(session, self.name(), external_id, reachable=reachable)
        except SQLAlchemyError:
            logger.exception(
                "could not mark a %s identity %s",
                self.label,
                "reachable" if reachable else "unreachable",
            )

    async def slowed_down(self, sender: str, reply_to: str) -> bool:
        """Whether ``sender`` is over the channel's rate limit (the message is then not
        processed); the reader is told at ``reply_to``, at most once a minute.

        Args:
            sender: who is counted: the Telegram chat, the Slack user.
            reply_to: the Rasa sender id the polite refusal is posted to.
        """
        admission = await self.rate_limits.admit({self.channel_name: sender})
        if admission.allowed:
            return False
        logger.info("%s sender is over its rate limit; message not processed", self.label)
        notice = await self.slow_down_notices.admit({"notice": f"{self.channel_name}:{sender}"})
        if notice.allowed:
            await self.make_output().send_text_message(
                reply_to, slow_down_text(admission.retry_after)
            )
        return True
