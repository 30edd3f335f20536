"""SMTP retries of the email channel: the same attempts and waits as before tenacity;
since issue 18 a mail that failed every time is kept in the email outbox."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.email import EmailDeliveryError, MailPoller, MailSender
from connectors.email.render import RenderedMail
from connectors.email.settings import EmailSettings
from connectors.email.transport import EmailTransportError
from crm_store.models import EmailOutboxEntry
from tests.aio import run

SETTINGS = EmailSettings(smtp_host="smtp.invalid", from_address="library@library.test")


def _sender(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, failures: int
) -> tuple[MailSender, list[float], list[str]]:
    waits: list[float] = []
    sent: list[str] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    def send_mail(_: EmailSettings, mail: EmailMessage) -> None:
        if len(waits) < failures:
            raise EmailTransportError("connection refused")
        sent.append(str(mail["Message-ID"]))

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    monkeypatch.setattr("connectors.email.sender.send_mail", send_mail)
    return MailSender(SETTINGS, sessions), waits, sent


def _send(sender: MailSender, attempts: int) -> str:
    return run(
        sender.send(
            sender_id="email:retries",
            to="ada@readers.test",
            subject="Re: Opening hours",
            in_reply_to=None,
            references=[],
            rendered=RenderedMail("We open at nine."),
            auto_submitted="auto-replied",
            attempts=attempts,
        )
    )


def test_a_failed_send_is_retried_after_2_then_4_seconds(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, waits, sent = _sender(sessions, monkeypatch, failures=2)

    message_id = _send(sender, attempts=3)

    assert waits == [2.0, 4.0]
    assert sent == [message_id]


def test_the_last_failure_keeps_the_mail_in_the_outbox(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: a mail SMTP refused every time in the turn is kept for a later retry
    (tests/trust/test_outbox_retry.py retries it against real SMTP servers)."""
    sender, waits, sent = _sender(sessions, monkeypatch, failures=99)

    message_id = _send(sender, attempts=3)

    assert waits == [2.0, 4.0]
    assert sent == []
    with sessions() as session:
        kept = session.execute(select(EmailOutboxEntry)).scalar_one()
    assert (kept.message_id, kept.status, kept.attempts) == (message_id, "pending", 1)
    assert kept.last_error == "connection refused"


def test_one_attempt_means_no_retry(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, waits, _ = _sender(sessions, monkeypatch, failures=1)

    _send(sender, attempts=1)

    assert waits == []


def test_without_smtp_settings_nothing_is_kept_and_it_raises(
    sessions: sessionmaker[Session],
) -> None:
    sender = MailSender(EmailSettings(), sessions)
    with pytest.raises(EmailDeliveryError, match="no SMTP server"):
        _send(sender, attempts=1)
    with sessions() as session:
        assert session.execute(select(EmailOutboxEntry)).first() is None


class _FlakyMailbox:
    """A mailbox that is down for the polls listed in ``down``, and empty otherwise."""

    def __init__(self, down: set[int]) -> None:
        self.down = down
        self.polls = 0

    def unseen(self) -> list[str]:
        self.polls += 1
        if self.polls in self.down:
            raise EmailTransportError("IMAP server unreachable")
        return []

    def close(self) -> None:
        return None


def test_an_unreachable_mailbox_is_polled_again_with_backoff(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 14:
            raise asyncio.CancelledError

    async def nothing(*_: object) -> bool:
        return False

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    # Down for the first three polls, up for one, then down for ten in a row.
    mailbox = _FlakyMailbox(down={1, 2, 3, *range(5, 15)})
    settings = EmailSettings(
        imap_host="imap.invalid", imap_user="library", poll_seconds=1.0, from_address="l@l.test"
    )
    poller = MailPoller(settings, sessions, nothing, nothing, mailbox=mailbox)  # type: ignore[arg-type]

    with pytest.raises(asyncio.CancelledError):
        run(poller.run())

    backoff = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]  # at most 5 minutes
    assert waits == [*backoff[:3], 1.0, *backoff]
    assert poller.status.running is False
