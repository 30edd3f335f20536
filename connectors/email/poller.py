"""The email channel's mailbox poller: each unseen mail becomes one Rasa turn.

A background task polls the folder every ``RIC_EMAIL_POLL_SECONDS`` and, for each unseen mail:

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

The thread map, receipts and reader links are the store's (:mod:`crm_store.channels`);
this module only decides what to ask of it. When the mailbox is unreachable the poll
is retried with exponential backoff (twice the poll interval, then four times...,
at most 1,024 times it or five minutes) through ``tenacity``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, TypeVar

from rasa.core.channels.channel import UserMessage
from sqlalchemy.orm import Session, sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from connectors.email import render
from connectors.email.parse import InboundMail, MalformedMail, parse_mail
from connectors.email.sender import CHANNEL, EmailDeliveryError, MailSender, TurnOutput
from connectors.email.settings import EmailSettings
from connectors.email.text import subject_as_text
from connectors.email.transport import EmailTransportError, Mailbox
from crm_store import channels, clock
from messaging.logs import conversation_scope, set_conversation
from messaging.text_safety import neutralize_intent_shortcut

__all__ = ["HasUserMessage", "MailPoller", "PollerStatus"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 5
SMTP_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 300.0
MAX_BACKOFF_DOUBLINGS = 10

HasUserMessage = Callable[[str, str], Awaitable[bool]]
"""``(sender_id, message_id)`` → whether the tracker already holds that user message."""


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
        poll = self.settings.poll_seconds
        try:
            while True:
                # A new backoff after every poll that reached the mailbox.
                retrying = AsyncRetrying(
                    retry=retry_if_exception_type(EmailTransportError),
                    wait=wait_exponential(
                        multiplier=2 * poll,
                        max=min(poll * 2**MAX_BACKOFF_DOUBLINGS, MAX_BACKOFF_SECONDS),
                    ),
                    before_sleep=self._unavailable,
                )
                await retrying(self._poll_reporting_errors)
                await asyncio.sleep(poll)
        finally:
            self.status.running = False
            await asyncio.to_thread(self.mailbox.close)

    async def _poll_reporting_errors(self) -> None:
        """One poll; anything but an unreachable mailbox is logged, and polling goes on."""
        try:
            await self.poll_once()
        except EmailTransportError:
            raise
        except Exception as error:
            self.status.last_error = f"{type(error).__name__}: {error}"
            logger.exception("email: the mailbox poll failed; retrying")

    def _unavailable(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self.status.connected = False
        self.status.last_error = str(error)
        logger.warning("email: mailbox unavailable (%s); retrying in %.1f s", error, delay)

    async def poll_once(self) -> int:
        """Process every unseen mail once; return how many were handled.

        Raises:
            EmailTransportError: the IMAP server is unreachable or failed mid-way.
        """
        uids = await self._imap(self.mailbox.unseen)
        self.status.connected = True
        self.status.last_poll_at = clock.now()
        self.status.last_error = None
        handled = 0
        for uid in uids:
            if uid in self._given_up:
                continue
            try:
                with conversation_scope(None):  # each mail's lines carry its own sender
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
        set_conversation(admission.sender_id)  # on every log line about this mail
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
        claimed = channels.first_receipt(self.sessions, CHANNEL, mail.message_id)
        with self.sessions.begin() as session:
            known = channels.sender_of(session, mail.message_id)
            if not claimed and known is None:
                # Answered before without the assistant (too long, empty, rate-limited).
                return _Admission("duplicate")
            since = clock.now() - timedelta(seconds=self.settings.rate_limit.window_seconds)
            if claimed and (
                channels.count_recent_inbound(session, mail.sender, since)
                >= self.settings.rate_limit.count
            ):
                return _Admission("rate_limited")
            sender_id = (
                known
                or channels.find_thread(session, mail.thread_ids)
                or channels.sender_id_for(mail.thread_root)
            )
            buttons = channels.offered_buttons(session, sender_id, mail.in_reply_to)
        return _Admission("accept", sender_id, buttons, recovered=not claimed)

    def _record_inbound(self, mail: InboundMail, sender_id: str) -> None:
        when = clock.now()
        with self.sessions.begin() as session:
            channels.record_message(
                session,
                message_id=mail.message_id,
                sender_id=sender_id,
                direction=channels.INBOUND,
                address=mail.sender,
                subject=mail.subject,
                when=when,
            )
            channels.link_reader(session, sender_id, mail.sender, mail.sender_name, when)

    async def _reply(
        self,
        mail: InboundMail,
        sender_id: str,
        rendered: render.RenderedMail,
        attempts: int = SMTP_ATTEMPTS,
    ) -> None:
        if not rendered.text:
            return
        references = list(mail.references) or ([mail.in_reply_to] if mail.in_reply_to else [])
        try:
            await self.sender.send(
                sender_id=sender_id,
                to=mail.sender,
                subject=render.reply_subject(mail.subject),
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
        notes = [render.attachment_note(mail.attachments)]
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
            rendered = render.render_messages([], [*notes, problem])
            await self._reply(mail, admission.sender_id, rendered)
            return
        await asyncio.to_thread(self._record_inbound, mail, admission.sender_id)
        payload = render.chosen_payload(text, admission.buttons)
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
                    input_channel=CHANNEL,
                    message_id=mail.message_id,
                    metadata=metadata,
                )
            )
        except Exception:
            await asyncio.to_thread(
                channels.forget_receipt, self.sessions, CHANNEL, mail.message_id
            )
            raise
        # Rasa has saved the turn: from here on the mail is never processed again.
        await self._mark_seen(uid)
        rendered = render.render_messages(collector.messages, notes)
        await self._reply(mail, admission.sender_id, rendered)
