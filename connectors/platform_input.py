"""What the Telegram and Slack input channels share: secrets from the environment,
a message-size limit from ``credentials.yml``, reader-store sessions made on first use,
and the health and "not configured" answers of a channel loaded without its secrets.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rasa.core.channels.channel import InputChannel
from sanic import response
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import database_url, make_engine, make_session_factory
from messaging.text_safety import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)


class PlatformSettings(Protocol):
    """The part of a platform's settings the shared code reads."""

    @property
    def missing(self) -> list[str]:
        """Names of the environment variables the channel needs and does not have."""
        ...


S = TypeVar("S", bound=PlatformSettings)


class PlatformInput(InputChannel, Generic[S]):
    """Base of an input channel for a chat platform that calls our webhook."""

    label: ClassVar[str] = "platform"
    """The platform's name in log lines and refusals ("Telegram", "Slack")."""

    @classmethod
    def settings_from_env(cls) -> S:
        """The platform's settings, read from the environment (subclasses say how)."""
        raise NotImplementedError

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
