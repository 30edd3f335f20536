"""Outbound mail of the email channel: one mail of a thread, recorded, then sent over SMTP.

:class:`MailSender` records each mail in the thread map (``email_messages``, through
:mod:`crm_store.channels`) before it sends it, so that a reader's answer arriving at
once finds its thread and the numbered options it offered. SMTP failures are retried
with exponential backoff (2 s, 4 s, ... between attempts) through ``tenacity``.

Each mail is also kept in the email outbox (``email_outbox``, :mod:`crm_store.mail_outbox`)
before the first try (issue 18). A mail the SMTP server refused every time in the
turn stays there, and :meth:`MailSender.retry_due` (run by
:class:`~connectors.email.outbox.OutboxRetrier`) tries it again with backoff
(``RIC_EMAIL_RETRY_FIRST_SECONDS``, doubling up to ``RIC_EMAIL_RETRY_MAX_SECONDS``) until
it is delivered or, after ``RIC_EMAIL_EXPIRE_HOURS``, expired; the console shows both.

:class:`EmailOutput` serves proactive messages (``output_channel=email``), one mail per
message; :class:`TurnOutput` collects one turn's messages so they go out as one mail.

Exceptions::

    EmailDeliveryError         no SMTP server configured, or no thread for the conversation
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, cast

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
from crm_store import channels, clock, mail_outbox
from crm_store.models import EmailOutboxEntry
from messaging.outbox import Outbox, claim, exponential_backoff, record_outcome
from ric_config.trust import MailOutboxConfig

__all__ = ["EmailDeliveryError", "EmailOutput", "MailSender", "TurnOutput"]

logger = logging.getLogger(__name__)

CHANNEL = "email"


STALE_SENDING = timedelta(minutes=10)
"""A mail ``sending`` this long lost its sender (the process died); it is tried again."""


class EmailDeliveryError(Exception):
    """An outbound mail cannot be sent at all (no SMTP server, or no thread to answer)."""


def mail_outbox_box(config: MailOutboxConfig) -> Outbox:
    """The email outbox's state machine: pending → sending → sent, or expired."""
    return Outbox(
        EmailOutboxEntry,
        ready=mail_outbox.PENDING,
        gave_up=mail_outbox.EXPIRED,
        error_chars=2000,
        claim_timeout=STALE_SENDING,
        count_attempts="outcome",
        backoff=exponential_backoff(
            timedelta(seconds=config.retry_first_seconds),
            timedelta(seconds=config.retry_max_seconds),
        ),
        expires=True,
    )


def _log_retry(retry_state: RetryCallState) -> None:
    message_id = retry_state.kwargs.get("message_id", "")
    error = retry_state.outcome.exception() if retry_state.outcome else None
    logger.warning("email: sending %s failed (%s); retrying", message_id, error)


class MailSender:
    """Sends mails in a conversation's thread and records them in ``email_messages``."""

    def __init__(
        self,
        settings: EmailSettings,
        sessions: sessionmaker[Session],
        outbox: MailOutboxConfig | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.outbox = outbox or MailOutboxConfig()
        self.box = mail_outbox_box(self.outbox)

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
        """Record, keep in the outbox and send one mail of a thread; return its ``Message-ID``.

        The mail is recorded before it is sent, so a reader's answer that arrives at
        once already finds its thread and the numbered options it offered. When SMTP
        fails ``attempts`` times it stays in the outbox and is retried later.

        Raises:
            EmailDeliveryError: no SMTP server or From address is configured.
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
        row_id = await asyncio.to_thread(
            self._record, message_id, sender_id, to, subject, rendered, mail
        )
        status = await self._deliver(row_id, mail, message_id, attempts)
        if status != mail_outbox.SENT:
            logger.warning(
                "email: %s not delivered yet; kept in the outbox (%s)", message_id, status
            )
        return message_id

    async def _deliver(
        self, row_id: int, mail: EmailMessage, message_id: str, attempts: int = 1
    ) -> str:
        """Claim the outbox row, try SMTP ``attempts`` times, record the outcome."""
        if not await asyncio.to_thread(self._claim, row_id):
            return mail_outbox.SENDING  # another sender has it
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(EmailTransportError),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=2),  # 2 s after the first failure, then 4 s...
            before_sleep=_log_retry,
            reraise=True,
        )
        error: str | None = None
        try:
            await retrying(self._transmit, mail, message_id=message_id)
        except EmailTransportError as failure:
            error = str(failure) or type(failure).__name__
        return await asyncio.to_thread(self._outcome, row_id, error)

    def _claim(self, row_id: int) -> bool:
        with self.sessions.begin() as session:
            return claim(session, self.box, row_id, clock.now())

    def _outcome(self, row_id: int, error: str | None) -> str:
        with self.sessions.begin() as session:
            row = session.get(EmailOutboxEntry, row_id)
            if row is None:  # erased meanwhile (a reader's erasure)
                return mail_outbox.EXPIRED
            return record_outcome(row, self.box, error, clock.now())

    async def retry_due(self) -> dict[str, int]:
        """Try every mail of the outbox that is due; returns how many went which way."""
        now = clock.now()
        ids = await asyncio.to_thread(self._due, now)
        counts: dict[str, int] = {}
        for row_id in ids:
            loaded = await asyncio.to_thread(self._load, row_id)
            if loaded is None:
                continue
            message_id, mail = loaded
            status = await self._deliver(row_id, mail, message_id)
            counts[status] = counts.get(status, 0) + 1
            if status == mail_outbox.EXPIRED:
                logger.error("email: %s was not delivered in time; it expired", message_id)
        if counts:
            logger.info(
                "email outbox: %s",
                ", ".join(f"{status} {n}" for status, n in sorted(counts.items())),
            )
        return counts

    def _due(self, now: Any) -> list[int]:
        with self.sessions.begin() as session:
            return mail_outbox.due_ids(session, now, now - STALE_SENDING)

    def _load(self, row_id: int) -> tuple[str, EmailMessage] | None:
        with self.sessions.begin() as session:
            row = session.get(EmailOutboxEntry, row_id)
            if row is None:
                return None
            parsed = email.message_from_string(str(row.mail), policy=email.policy.default)
            return str(row.message_id), cast(EmailMessage, parsed)

    async def _transmit(self, mail: EmailMessage, *, message_id: str) -> None:
        await asyncio.to_thread(send_mail, self.settings, mail)

    def _record(
        self,
        message_id: str,
        sender_id: str,
        to: str,
        subject: str,
        rendered: RenderedMail,
        mail: EmailMessage,
    ) -> int:
        now = clock.now()
        with self.sessions.begin() as session:
            row = mail_outbox.queue_mail(
                session,
                message_id=message_id,
                sender_id=sender_id,
                to=to,
                mail=mail.as_string(),
                now=now,
                expires_at=now + timedelta(hours=self.outbox.expire_hours),
            )
            channels.record_message(
                session,
                message_id=message_id,
                sender_id=sender_id,
                direction=channels.OUTBOUND,
                address=to,
                subject=subject,
                buttons=rendered.buttons,
                when=now,
            )
            return int(row.id)

    async def send_to_thread(self, sender_id: str, message: Mapping[str, Any]) -> str:
        """Send one proactive message to the thread of ``sender_id``.

        Raises:
            EmailDeliveryError: the conversation has no email thread (an SMTP failure
                keeps the mail in the outbox instead).
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
