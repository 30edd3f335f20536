"""Email channel: the library's mailbox, read over IMAP and answered over SMTP, inside Rasa.

Registered in ``credentials.yml`` as ``connectors.email.EmailInput``; settings
come from ``RIC_EMAIL_*`` variables (:mod:`connectors.email.settings`). Without an
IMAP and an SMTP server configured the channel loads, logs one line, and does nothing.

Mounted by Rasa at ``/webhooks/email/``: ``GET /`` reports whether the mailbox is
configured and reachable. A background task, started when the Rasa server starts,
runs the :class:`~connectors.email.poller.MailPoller`, which turns each new mail into
one Rasa turn and answers it with one mail.

Proactive messages (a librarian's reply, a survey) arrive one Rasa event at a time
through :meth:`EmailInput.get_output_channel` and are sent one mail per message in
the conversation's thread; a conversation without a thread raises, so Rasa answers
500. Every mail is kept in the email outbox until the SMTP server accepts it: an
:class:`~connectors.email.outbox.OutboxRetrier`, started whenever SMTP is configured,
retries failures with backoff (issue 18).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session, sessionmaker

from connectors.email.outbox import OutboxRetrier
from connectors.email.poller import MailPoller
from connectors.email.sender import CHANNEL, EmailOutput, MailSender
from connectors.email.settings import EmailSettings
from connectors.shared import ChannelNamed, StoreSessions, holds_user_message, tracker_events

__all__ = ["EmailInput"]

logger = logging.getLogger(__name__)


class EmailInput(ChannelNamed, StoreSessions, InputChannel):  # type: ignore[misc]
    """The email channel: a mailbox poller plus proactive sending."""

    channel_name = CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> EmailInput:
        """Build the channel from its ``credentials.yml`` entry and ``RIC_EMAIL_*``."""
        credentials = credentials or {}
        settings = EmailSettings.from_env()
        if credentials.get("max_message_chars"):
            settings = replace(settings, max_message_chars=int(credentials["max_message_chars"]))
        return cls(settings)

    def __init__(
        self,
        settings: EmailSettings | None = None,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        super().__init__(sessions)
        self.settings = settings or EmailSettings.from_env()
        self.poller: MailPoller | None = None
        self._task: asyncio.Task[None] | None = None
        self._retrier: asyncio.Task[None] | None = None

    def get_output_channel(self) -> OutputChannel:
        """Channel used for proactive messages (console replies, worker surveys)."""
        return EmailOutput(MailSender(self.settings, self.sessions))

    def status(self) -> dict[str, Any]:
        """What the health route reports (never a password)."""
        settings = self.settings
        return {
            "status": "ok",
            "channel": "email",
            "configured": settings.configured,
            "mailbox": f"{settings.imap_user}@{settings.imap_host}/{settings.imap_mailbox}"
            if settings.inbound_configured
            else None,
            "smtp": f"{settings.smtp_host}:{settings.smtp_port}"
            if settings.outbound_configured
            else None,
            **(self.poller.status.as_dict() if self.poller else {"running": False}),
        }

    def start(self, app: Sanic) -> None:
        """Start the outbox retrier and the mailbox poller (when the Rasa server has started)."""
        if self.settings.outbound_configured and self._retrier is None:
            retrier = OutboxRetrier(MailSender(self.settings, self.sessions))
            self._retrier = asyncio.get_running_loop().create_task(retrier.run())
        if not self.settings.configured:
            logger.info(
                "email channel: not configured (set RIC_EMAIL_IMAP_HOST, RIC_EMAIL_IMAP_USER, "
                "RIC_EMAIL_SMTP_HOST and RIC_EMAIL_FROM); not polling"
            )
            return
        on_new_message = self._on_new_message

        async def has_user_message(sender_id: str, message_id: str) -> bool:
            events = await tracker_events(app.ctx.agent.tracker_store, sender_id)
            return holds_user_message(events, message_id)

        assert on_new_message is not None
        self.poller = MailPoller(self.settings, self.sessions, on_new_message, has_user_message)
        self._task = asyncio.get_running_loop().create_task(self.poller.run())
        logger.info(
            "email channel: polling %s on %s every %.1f s",
            self.settings.imap_mailbox,
            self.settings.imap_host,
            self.settings.poll_seconds,
        )

    async def stop(self) -> None:
        """Stop the poller and the retrier (called when the Rasa server stops)."""
        tasks = [task for task in (self._task, self._retrier) if task is not None]
        self._task = self._retrier = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route, and listeners that start and stop the mailbox poller."""
        self._on_new_message = on_new_message
        bp = Blueprint("email_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json(self.status())

        async def start_polling(app: Sanic, _loop: Any) -> None:
            self.start(app)

        async def stop_polling(_app: Sanic, _loop: Any) -> None:
            await self.stop()

        bp.add_route(health, "/", methods=["GET"])
        bp.listener(start_polling, "after_server_start")
        bp.listener(stop_polling, "before_server_stop")
        return bp
