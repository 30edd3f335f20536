"""Outbound mail of the email channel: one mail of a thread, recorded, then sent over SMTP.

:class:`MailSender` records each mail in the thread map (``email_messages``, through
:mod:`crm_store.channels`) before it sends it, so that a reader's answer arriving at
once finds its thread and the numbered options it offered. SMTP failures are retried
with exponential backoff (2 s, 4 s, ... between attempts) through ``tenacity``.

:class:`EmailOutput` serves proactive messages (``output_channel=email``), one mail per
message; :class:`TurnOutput` collects one turn's messages so they go out as one mail.

Exceptions::

    EmailDeliveryError         no thread for the conversation, or SMTP failed every time
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from connectors.email.render import (
    RenderedMail,
    build_mail,
    new_message_id,
    render_messages,
    reply_subject,
)
from connectors.email.settings import EmailSettings
from connectors.email.transport import EmailTransportError, send_mail
from connectors.shared import WholeMessageOutput
from crm_store import channels, clock

__all__ = ["EmailDeliveryError", "EmailOutput", "MailSender", "TurnOutput"]

logger = logging.getLogger(__name__)

CHANNEL = "email"


class EmailDeliveryError(Exception):
    """An outbound mail could not be sent (no thread for the conversation, or SMTP failed)."""


def _log_retry(retry_state: RetryCallState) -> None:
    message_id = retry_state.kwargs.get("message_id", "")
    error = retry_state.outcome.exception() if retry_state.outcome else None
    logger.warning("email: sending %s failed (%s); retrying", message_id, error)


class MailSender:
    """Sends mails in a conversation's thread and records them in ``email_messages``."""

    def __init__(self, settings: EmailSettings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions

    async def send(
        self,
        *,
        sender_id: str,
        to: str,
        subject: str,
        in_reply_to: str | None,
        references: Sequence[str],
        rendered: RenderedMail,
        auto_submitted: str | None,
        attempts: int = 1,
    ) -> str:
        """Record and send one mail of a thread; return its ``Message-ID``.

        The mail is recorded before it is sent, so a reader's answer that arrives at
        once already finds its thread and the numbered options it offered.

        Raises:
            EmailDeliveryError: SMTP failed ``attempts`` times.
        """
        if not self.settings.outbound_configured:
            raise EmailDeliveryError("the email channel has no SMTP server or From address")
        message_id = new_message_id(self.settings.from_address)
        mail = build_mail(
            from_address=self.settings.from_address,
            to=to,
            subject=subject,
            body=rendered.text,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted=auto_submitted,
        )
        await asyncio.to_thread(self._record, message_id, sender_id, to, subject, rendered)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(EmailTransportError),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=2),  # 2 s after the first failure, then 4 s...
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            await retrying(self._transmit, mail, message_id=message_id)
        except EmailTransportError as error:
            raise EmailDeliveryError(f"could not send {message_id}: {error}") from error
        return message_id

    async def _transmit(self, mail: EmailMessage, *, message_id: str) -> None:
        await asyncio.to_thread(send_mail, self.settings, mail)

    def _record(
        self, message_id: str, sender_id: str, to: str, subject: str, rendered: RenderedMail
    ) -> None:
        with self.sessions.begin() as session:
            channels.record_message(
                session,
                message_id=message_id,
                sender_id=sender_id,
                direction=channels.OUTBOUND,
                address=to,
                subject=subject,
                buttons=rendered.buttons,
                when=clock.now(),
            )

    async def send_to_thread(self, sender_id: str, message: Mapping[str, Any]) -> str:
        """Send one proactive message to the thread of ``sender_id``.

        Raises:
            EmailDeliveryError: the conversation has no email thread, or SMTP failed.
        """
        thread = await asyncio.to_thread(self._thread, sender_id)
        if thread is None:
            raise EmailDeliveryError(f"conversation {sender_id} has no email thread")
        rendered = render_messages([message])
        if not rendered.text:
            return ""
        # A librarian writes as a person; the assistant's own messages are marked
        # auto-generated so that out-of-office robots do not answer them.
        human = message.get("librarian_id") is not None
        return await self.send(
            sender_id=sender_id,
            to=thread.address,
            subject=reply_subject(thread.subject),
            in_reply_to=thread.in_reply_to,
            references=thread.references,
            rendered=rendered,
            auto_submitted=None if human else "auto-generated",
        )

    def _thread(self, sender_id: str) -> channels.Thread | None:
        with self.sessions.begin() as session:
            return channels.thread_of(session, sender_id)


class EmailOutput(WholeMessageOutput):
    """Proactive sends (``output_channel=email``): one mail per message, in the thread."""

    channel_name = CHANNEL

    def __init__(self, sender: MailSender) -> None:
        self.sender = sender

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one message (text, buttons, elements...) as one mail."""
        await self.sender.send_to_thread(recipient_id, message)


class TurnOutput(WholeMessageOutput):
    """Collects the assistant's messages of one turn so they go out as one mail."""

    channel_name = CHANNEL

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep one message for the turn's mail."""
        self.messages.append(dict(message))
