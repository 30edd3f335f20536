"""Email channel: the library's mailbox, read over IMAP and answered over SMTP, inside Rasa.

Registered in ``credentials.yml`` as ``connectors.email_bridge.EmailInput``; settings
come from ``RIC_EMAIL_*`` variables (:mod:`connectors.email_settings`). Without an
IMAP and an SMTP server configured the channel loads, logs one line, and does nothing.

Mounted by Rasa at ``/webhooks/email/``: ``GET /`` reports whether the mailbox is
configured and reachable. A background task, started when the Rasa server starts,
polls the folder every ``RIC_EMAIL_POLL_SECONDS`` and, for each unseen mail:

1. reads it without marking it ``\\Seen`` (``BODY.PEEK``); a mail too large to read
   is answered from its header alone;
2. skips robots (auto-replies, bounces, bulk and list mail, our own mail), marking
   them seen unanswered; a mail without a usable sender is flagged and kept;
3. deduplicates by ``Message-ID`` (``inbound_receipts``; a receipt whose mail never
   reached the tracker is processed again, so a crash mid-turn loses nothing);
4. applies the per-sender rate limit (excess mail is marked seen and logged, not answered);
5. finds the thread (``email_messages``), links the sender's reader record, maps a
   reply of just a number to the offered button's payload, and hands the reader's
   text (quotes and signature stripped) to Rasa;
6. marks the mail seen only after Rasa accepted the turn, then sends the turn's
   replies as **one** email, ``Re: <subject>``, with ``In-Reply-To`` / ``References``.

Proactive messages (a librarian's reply, a survey) arrive one Rasa event at a time
through :meth:`EmailInput.get_output_channel` and are sent one mail per message in
the conversation's thread; a failure raises, so Rasa answers 500 and the sender retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, TypeVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session, sessionmaker

from connectors import email_store
from connectors.email_parse import InboundMail, MalformedMail, parse_mail
from connectors.email_render import (
    RenderedMail,
    attachment_note,
    build_mail,
    chosen_payload,
    new_message_id,
    render_messages,
    reply_subject,
)
from connectors.email_settings import EmailSettings
from connectors.email_text import subject_as_text
from connectors.email_transport import EmailTransportError, Mailbox, send_mail
from crm_store import clock
from crm_store.receipts import first_receipt, forget_receipt
from messaging.text_safety import neutralize_intent_shortcut

__all__ = ["EmailDeliveryError", "EmailInput", "EmailOutput", "MailPoller"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 5
SMTP_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 300.0

HasUserMessage = Callable[[str, str], Awaitable[bool]]
"""``(sender_id, message_id)`` → whether the tracker already holds that user message."""


class EmailDeliveryError(Exception):
    """An outbound mail could not be sent (no thread for the conversation, or SMTP failed)."""


def _now() -> datetime:
    return clock.now()


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
        for attempt in range(1, attempts + 1):
            try:
                await asyncio.to_thread(send_mail, self.settings, mail)
                return message_id
            except EmailTransportError as error:
                if attempt == attempts:
                    raise EmailDeliveryError(f"could not send {message_id}: {error}") from error
                logger.warning("email: sending %s failed (%s); retrying", message_id, error)
                await asyncio.sleep(2.0**attempt)
        raise AssertionError("unreachable")

    def _record(
        self, message_id: str, sender_id: str, to: str, subject: str, rendered: RenderedMail
    ) -> None:
        with self.sessions.begin() as session:
            email_store.record_message(
                session,
                message_id=message_id,
                sender_id=sender_id,
                direction=email_store.OUTBOUND,
                address=to,
                subject=subject,
                buttons=rendered.buttons,
                when=_now(),
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

    def _thread(self, sender_id: str) -> email_store.Thread | None:
        with self.sessions.begin() as session:
            return email_store.thread_of(session, sender_id)


class EmailOutput(OutputChannel):
    """Proactive sends (``output_channel=email``): one mail per message, in the thread."""

    @classmethod
    def name(cls) -> str:
        """The channel's name, as used in ``output_channel=email``."""
        return "email"

    def __init__(self, sender: MailSender) -> None:
        self.sender = sender

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one message (text, buttons, elements...) as one mail."""
        await self.sender.send_to_thread(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text as one mail."""
        await self.send_response(recipient_id, {"text": text, **kwargs})


class TurnOutput(OutputChannel):
    """Collects the assistant's messages of one turn so they go out as one mail."""

    @classmethod
    def name(cls) -> str:
        """The channel's name."""
        return "email"

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep one message for the turn's mail."""
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Keep plain text for the turn's mail."""
        self.messages.append({"text": text, **kwargs})


@dataclass(frozen=True)
class _Admission:
    verdict: str  # "accept", "duplicate", "rate_limited"
    sender_id: str = ""
    buttons: list[dict[str, Any]] = field(default_factory=list)
    recovered: bool = False


@dataclass
class PollerStatus:
    """What the health route reports."""

    running: bool = False
    connected: bool = False
    last_poll_at: datetime | None = None
    last_error: str | None = None
    answered: int = 0
    ignored: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "running": self.running,
            "imap_connected": self.connected,
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            "last_error": self.last_error,
            "answered": self.answered,
            "ignored": self.ignored,
        }


class MailPoller:
    """Reads the library mailbox and turns each new mail into one Rasa turn."""

    def __init__(
        self,
        settings: EmailSettings,
        sessions: sessionmaker[Session],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        has_user_message: HasUserMessage,
        mailbox: Mailbox | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.on_new_message = on_new_message
        self.has_user_message = has_user_message
        self.mailbox = mailbox or Mailbox(settings)
        self.sender = MailSender(settings, sessions)
        self.status = PollerStatus()
        self._attempts: dict[str, int] = {}
        self._given_up: set[str] = set()

    @property
    def own_address(self) -> str:
        """The library mailbox's bare address."""
        return parseaddr(self.settings.from_address)[1].lower()

    async def _imap(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def run(self) -> None:
        """Poll until cancelled; IMAP failures are logged and retried with backoff."""
        self.status.running = True
        failures = 0
        try:
            while True:
                delay = self.settings.poll_seconds
                try:
                    await self.poll_once()
                    failures = 0
                except EmailTransportError as error:
                    failures += 1
                    delay = min(
                        self.settings.poll_seconds * 2 ** min(failures, 10), MAX_BACKOFF_SECONDS
                    )
                    self.status.connected = False
                    self.status.last_error = str(error)
                    logger.warning(
                        "email: mailbox unavailable (%s); retrying in %.1f s", error, delay
                    )
                except Exception as error:
                    self.status.last_error = f"{type(error).__name__}: {error}"
                    logger.exception("email: the mailbox poll failed; retrying")
                await asyncio.sleep(delay)
        finally:
            self.status.running = False
            await asyncio.to_thread(self.mailbox.close)

    async def poll_once(self) -> int:
        """Process every unseen mail once; return how many were handled.

        Raises:
            EmailTransportError: the IMAP server is unreachable or failed mid-way.
        """
        uids = await self._imap(self.mailbox.unseen)
        self.status.connected = True
        self.status.last_poll_at = _now()
        self.status.last_error = None
        handled = 0
        for uid in uids:
            if uid in self._given_up:
                continue
            try:
                await self.process(uid)
                handled += 1
                self._attempts.pop(uid, None)
            except EmailTransportError:
                raise
            except Exception:
                attempts = self._attempts.get(uid, 0) + 1
                self._attempts[uid] = attempts
                logger.exception(
                    "email: mail uid %s failed (attempt %d of %d); it stays unseen",
                    uid,
                    attempts,
                    MAX_ATTEMPTS,
                )
                if attempts >= MAX_ATTEMPTS:
                    self._given_up.add(uid)
                    await self._imap(self.mailbox.add_flags, uid, "\\Flagged")
                    logger.error("email: gave up on mail uid %s; flagged for a person", uid)
        return handled

    async def _mark_seen(self, uid: str, *extra: str) -> None:
        await self._imap(self.mailbox.add_flags, uid, "\\Seen", *extra)

    async def process(self, uid: str) -> None:
        """Handle one unseen mail, from reading it to answering it."""
        size = await self._imap(self.mailbox.size, uid)
        too_big = size > self.settings.max_mail_bytes
        raw = await self._imap(self.mailbox.fetch, uid, too_big)
        if raw is None:
            return
        try:
            mail = parse_mail(raw, self.own_address)
        except MalformedMail as error:
            logger.warning(
                "email: mail uid %s cannot be answered (%s); flagged and kept in the mailbox",
                uid,
                error,
            )
            await self._mark_seen(uid, "\\Flagged")
            self.status.ignored += 1
            return
        if mail.automated:
            logger.info("email: not answering %s (%s)", mail.message_id, mail.automated)
            await self._mark_seen(uid)
            self.status.ignored += 1
            return
        admission = await asyncio.to_thread(self._admit, mail)
        if admission.recovered and await self.has_user_message(
            admission.sender_id, mail.message_id
        ):
            admission = _Admission("duplicate")
        if admission.verdict == "duplicate":
            logger.info("email: %s was already processed; not answering again", mail.message_id)
            await self._mark_seen(uid)
            return
        if admission.verdict == "rate_limited":
            logger.warning(
                "email: %s not answered: its sender is over the rate limit (%s)",
                mail.message_id,
                self.settings.rate_limit,
            )
            await self._mark_seen(uid)
            self.status.ignored += 1
            return
        await self._answer(uid, mail, admission, too_big)

    def _admit(self, mail: InboundMail) -> _Admission:
        claimed = first_receipt(self.sessions, email_store.CHANNEL, mail.message_id)
        with self.sessions.begin() as session:
            known = email_store.sender_of(session, mail.message_id)
            if not claimed and known is None:
                # Answered before without the assistant (too long, empty, rate-limited).
                return _Admission("duplicate")
            since = _now() - timedelta(seconds=self.settings.rate_limit.window_seconds)
            if claimed and (
                email_store.count_recent_inbound(session, mail.sender, since)
                >= self.settings.rate_limit.count
            ):
                return _Admission("rate_limited")
            sender_id = (
                known
                or email_store.find_thread(session, mail.thread_ids)
                or email_store.sender_id_for(mail.thread_root)
            )
            buttons = email_store.offered_buttons(session, sender_id, mail.in_reply_to)
        return _Admission("accept", sender_id, buttons, recovered=not claimed)

    def _record_inbound(self, mail: InboundMail, sender_id: str) -> None:
        when = _now()
        with self.sessions.begin() as session:
            email_store.record_message(
                session,
                message_id=mail.message_id,
                sender_id=sender_id,
                direction=email_store.INBOUND,
                address=mail.sender,
                subject=mail.subject,
                when=when,
            )
            email_store.link_reader(session, sender_id, mail.sender, mail.sender_name, when)

    async def _reply(
        self,
        mail: InboundMail,
        sender_id: str,
        rendered: RenderedMail,
        attempts: int = SMTP_ATTEMPTS,
    ) -> None:
        if not rendered.text:
            return
        references = list(mail.references) or ([mail.in_reply_to] if mail.in_reply_to else [])
        try:
            await self.sender.send(
                sender_id=sender_id,
                to=mail.sender,
                subject=reply_subject(mail.subject),
                in_reply_to=mail.message_id,
                references=[*references, mail.message_id],
                rendered=rendered,
                auto_submitted="auto-replied",
                attempts=attempts,
            )
            self.status.answered += 1
        except EmailDeliveryError:
            logger.exception("email: the answer to %s could not be sent", mail.message_id)

    async def _answer(
        self, uid: str, mail: InboundMail, admission: _Admission, too_big: bool
    ) -> None:
        notes = [attachment_note(mail.attachments)]
        text = mail.body or subject_as_text(mail.subject)
        limit = self.settings.max_message_chars
        problem = None
        if too_big:
            problem = (
                "Your email is too large for me to read (the limit is "
                f"{self.settings.max_mail_bytes // (1024 * 1024)} MB). Please send your "
                "question again in a short email without attachments."
            )
        elif len(text) > limit:
            problem = (
                f"Your message is {len(text):,} characters long, and I can only read "
                f"{limit:,} characters at a time. Please send a shorter email with just "
                "your question."
            )
        elif not text:
            problem = "Your email had no text I could read. Please write your question in it."
        if problem:
            logger.info(
                "email: %s answered without the assistant (%s)",
                mail.message_id,
                "too large" if too_big else "too long" if text else "empty",
            )
            await self._mark_seen(uid)
            await self._reply(mail, admission.sender_id, render_messages([], [*notes, problem]))
            return
        await asyncio.to_thread(self._record_inbound, mail, admission.sender_id)
        payload = chosen_payload(text, admission.buttons)
        metadata: dict[str, Any] = {
            "email": {"subject": mail.subject, "attachments": list(mail.attachments)}
        }
        if payload is not None:
            metadata["display_text"] = text
            metadata["button"] = True
        collector = TurnOutput()
        try:
            await self.on_new_message(
                UserMessage(
                    payload if payload is not None else neutralize_intent_shortcut(text),
                    collector,
                    admission.sender_id,
                    input_channel=EmailInput.name(),
                    message_id=mail.message_id,
                    metadata=metadata,
                )
            )
        except Exception:
            await asyncio.to_thread(
                forget_receipt, self.sessions, email_store.CHANNEL, mail.message_id
            )
            raise
        # Rasa has saved the turn: from here on the mail is never processed again.
        await self._mark_seen(uid)
        await self._reply(mail, admission.sender_id, render_messages(collector.messages, notes))


def _database_sessions() -> sessionmaker[Session]:
    from crm_store.db import make_engine, make_session_factory

    return make_session_factory(make_engine())


class EmailInput(InputChannel):
    """The email channel: a mailbox poller plus proactive sending."""

    @classmethod
    def name(cls) -> str:
        """URL prefix ``/webhooks/email/`` and ``output_channel=email``."""
        return "email"

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
        self.settings = settings or EmailSettings.from_env()
        self._sessions = sessions
        self.poller: MailPoller | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Reader-store sessions, opened on first use."""
        if self._sessions is None:
            self._sessions = _database_sessions()
        return self._sessions

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
        """Start the mailbox poller (called when the Rasa server has started)."""
        if not self.settings.configured:
            logger.info(
                "email channel: not configured (set RIC_EMAIL_IMAP_HOST, RIC_EMAIL_IMAP_USER, "
                "RIC_EMAIL_SMTP_HOST and RIC_EMAIL_FROM); not polling"
            )
            return
        on_new_message = self._on_new_message

        async def has_user_message(sender_id: str, message_id: str) -> bool:
            tracker = await app.ctx.agent.tracker_store.retrieve_full_tracker(sender_id)
            if tracker is None:
                return False
            return any(
                event.as_dict().get("event") == "user"
                and event.as_dict().get("message_id") == message_id
                for event in tracker.events
            )

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
        """Stop the poller (called when the Rasa server stops)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    _on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health route, and listeners that start and stop the mailbox poller."""
        self._on_new_message = on_new_message
        bp = Blueprint("email_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json(self.status())

        @bp.listener("after_server_start")
        async def start_polling(app: Sanic, _loop: Any) -> None:
            self.start(app)

        @bp.listener("before_server_stop")
        async def stop_polling(_app: Sanic, _loop: Any) -> None:
            await self.stop()

        return bp
