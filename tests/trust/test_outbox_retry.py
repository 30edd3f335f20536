"""An email reply that fails to send is kept and retried until delivered or expired.

Real aiosmtpd servers on loopback: one that refuses with ``451`` and then accepts,
and one that is down and then comes up. The clock is a travel clock, so the backoff
is exact and nothing sleeps. SQLite and PostgreSQL reader stores.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.email import MailSender
from connectors.email.render import RenderedMail
from connectors.email.settings import EmailSettings
from crm_store import clock
from crm_store.mail_outbox import DeliveryCounts, delivery_counts, undelivered
from crm_store.models import EmailOutboxEntry
from ric_config.trust import MailOutboxConfig
from tests.aio import run
from tests.standins.mail_servers import free_port

pytestmark = pytest.mark.trust

T0 = datetime(2027, 3, 1, 10, tzinfo=timezone.utc)
THREAD = "email:outbox-test"
READER = "ada@readers.test"
CONFIG = MailOutboxConfig(retry_first_seconds=30, retry_max_seconds=3600, expire_hours=2)


class RefusingServer:
    """An aiosmtpd server that answers ``451`` to the first ``refusals`` mails."""

    def __init__(self, refusals: int, port: int | None = None) -> None:
        self.refusals = refusals
        self.port = port or free_port()
        self.received: list[email.message.EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        raw = envelope.content.replace(b"\r\n", b"\n")  # Python line endings
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.received.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def __enter__(self) -> RefusingServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture
def travel() -> Iterator[clock.TravelClock]:
    """The clock stands at T0 until a test moves it."""
    travel_clock = clock.TravelClock(T0)
    previous = clock.install(travel_clock)
    yield travel_clock
    clock.install(previous)


def sender_for(port: int, sessions: sessionmaker[Session]) -> MailSender:
    settings = EmailSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        from_address="Riverbend Library <library@library.test>",
    )
    return MailSender(settings, sessions, CONFIG)


def reply(sender: MailSender) -> str:
    """The assistant's answer to a reader's mail, tried once in the turn."""
    return run(
        sender.send(
            sender_id=THREAD,
            to=READER,
            subject="Re: Opening hours",
            in_reply_to="<question@readers.test>",
            references=["<question@readers.test>"],
            rendered=RenderedMail("We open at nine."),
            auto_submitted="auto-replied",
        )
    )


def row(sessions: sessionmaker[Session]) -> EmailOutboxEntry:
    with sessions() as session:
        return session.execute(select(EmailOutboxEntry)).scalar_one()


def counts(sessions: sessionmaker[Session]) -> DeliveryCounts:
    with sessions() as session:
        return delivery_counts(session)


def test_a_refused_reply_is_retried_with_backoff_until_delivered(
    travel: clock.TravelClock, sessions: sessionmaker[Session]
) -> None:
    with RefusingServer(refusals=2) as server:
        sender = sender_for(server.port, sessions)
        message_id = reply(sender)

        kept = row(sessions)
        assert (kept.status, kept.attempts) == ("pending", 1)
        assert kept.last_error is not None and "451" in kept.last_error
        assert kept.next_attempt_at == T0 + timedelta(seconds=30)
        assert counts(sessions) == DeliveryCounts(retrying=1, expired=0)
        with sessions() as session:
            [shown] = undelivered(session, [THREAD])
        assert (shown.message_id, shown.retrying, shown.attempts) == (message_id, True, 1)

        travel.advance(timedelta(seconds=29))
        assert run(sender.retry_due()) == {}  # not due yet
        travel.advance(timedelta(seconds=1))
        assert run(sender.retry_due()) == {"pending": 1}  # refused again
        assert row(sessions).next_attempt_at == travel.now() + timedelta(seconds=60)
        travel.advance(timedelta(seconds=60))
        assert run(sender.retry_due()) == {"sent": 1}

        [delivered] = server.received
    assert delivered["Message-ID"] == message_id  # the same mail, not a new one
    assert delivered["In-Reply-To"] == "<question@readers.test>"
    assert delivered.get_content() == "We open at nine.\n"
    done = row(sessions)
    assert (done.status, done.attempts, done.last_error) == ("sent", 3, None)
    assert counts(sessions) == DeliveryCounts(retrying=0, expired=0)
    with sessions() as session:
        assert undelivered(session, [THREAD]) == []


def test_a_reply_sent_while_the_server_is_down_goes_out_when_it_comes_up(
    travel: clock.TravelClock, sessions: sessionmaker[Session]
) -> None:
    port = free_port()
    sender = sender_for(port, sessions)
    message_id = reply(sender)  # nothing listens: connection refused
    assert row(sessions).status == "pending"
    assert run(sender.retry_due()) == {}

    with RefusingServer(refusals=0, port=port) as server:
        travel.advance(timedelta(seconds=30))
        assert run(sender.retry_due()) == {"sent": 1}
        assert [m["Message-ID"] for m in server.received] == [message_id]
        travel.advance(timedelta(hours=1))
        assert run(sender.retry_due()) == {}  # sent once only
    assert len(server.received) == 1


def test_a_reply_never_accepted_expires_and_says_so(
    travel: clock.TravelClock, sessions: sessionmaker[Session]
) -> None:
    with RefusingServer(refusals=1000) as server:
        sender = sender_for(server.port, sessions)
        reply(sender)
        waits = []
        while row(sessions).status == "pending":
            due = row(sessions).next_attempt_at
            waits.append((due - travel.now()).total_seconds())
            travel.set(due)
            run(sender.retry_due())
    # 30 s, 60 s, ... doubling, until the two hours are up.
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600][: len(waits)]
    gone = row(sessions)
    assert gone.status == "expired"
    assert travel.now() >= gone.expires_at == T0 + timedelta(hours=2)
    assert counts(sessions) == DeliveryCounts(retrying=0, expired=1)
    with sessions() as session:
        [shown] = undelivered(session, [THREAD])
    assert (shown.status, shown.retrying, shown.next_attempt_at) == ("expired", False, None)
    assert server.received == []
