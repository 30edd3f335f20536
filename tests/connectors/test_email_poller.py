"""The email channel's mailbox poller against real IMAP (dovecot) and SMTP (aiosmtpd) servers.

The channel hands each mail to Rasa through ``on_new_message``, exactly as Rasa's
channel registry does. Here that callback is a small recording assistant that
answers through the ``UserMessage``'s output channel, so these tests exercise the
channel's whole protocol (IMAP in, SMTP out, flags, the reader store) quickly; the
same flows with the real Rasa and action servers are in ``test_email_bridge.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.email import EmailDeliveryError, EmailOutput, MailPoller, MailSender
from connectors.email.check import check
from connectors.email.settings import EmailSettings
from connectors.email.transport import EmailTransportError
from crm_store.db import make_engine, make_session_factory
from crm_store.mail_outbox import undelivered
from crm_store.migrate import upgrade
from crm_store.models import ChannelIdentity, Conversation, Reader
from crm_store.models.operations import EmailMessage as EmailRow
from crm_store.receipts import first_receipt
from tests.aio import run
from tests.conftest import require_service
from tests.standins.mail_servers import (
    LIBRARY_ADDRESS,
    MailServers,
    dovecot_problem,
    free_port,
    start_mail_servers,
)

MENU = {
    "text": "What can I do for you?",
    "buttons": [
        {"title": "Opening hours", "payload": "/library_hours"},
        {"title": "Talk to a librarian", "payload": "/request_human"},
    ],
}


class RecordingAssistant:
    """Stands where Rasa's ``agent.handle_message`` stands: records turns and answers them."""

    def __init__(self) -> None:
        self.turns: list[UserMessage] = []
        self.fail_next = False

    async def __call__(self, message: UserMessage) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the assistant is down")
        self.turns.append(message)
        channel = message.output_channel
        if message.text == "menu":
            await channel.send_response(message.sender_id, dict(MENU))
        else:
            await channel.send_response(message.sender_id, {"text": f"You wrote: {message.text}"})
            await channel.send_response(message.sender_id, {"text": "Anything else?"})

    async def has_user_message(self, sender_id: str, message_id: str) -> bool:
        return any(t.sender_id == sender_id and t.message_id == message_id for t in self.turns)


@pytest.fixture(scope="module")
def servers() -> Iterator[MailServers]:
    require_service("dovecot", dovecot_problem())
    running = start_mail_servers()
    yield running
    running.stop()


@pytest.fixture
def store(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    return make_session_factory(make_engine(url))


@pytest.fixture
def assistant() -> RecordingAssistant:
    return RecordingAssistant()


@pytest.fixture
def poller(
    servers: MailServers, store: sessionmaker[Session], assistant: RecordingAssistant
) -> Iterator[MailPoller]:
    # Each test starts with an empty library mailbox.
    client = servers.dovecot.connect()
    client.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.logout()
    settings = EmailSettings.from_env(servers.env(poll_seconds=0.2, rate_limit="3/hour"))
    mail_poller = MailPoller(settings, store, assistant, assistant.has_user_message)
    yield mail_poller
    mail_poller.mailbox.close()


counter = iter(range(10**6))


def reader_address() -> str:
    """A fresh reader address per mail thread, so tests never share rate limits."""
    return f"reader{next(counter)}-{time.monotonic_ns()}@readers.test"


def mail(
    sender: str,
    body: str = "What are your opening hours?",
    subject: str = "Opening hours",
    reply_to: EmailMessage | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ada Lovelace <{sender}>"
    message["To"] = LIBRARY_ADDRESS
    message["Subject"] = subject if reply_to is None else f"Re: {reply_to['Subject']}"
    message["Message-ID"] = make_msgid(domain="readers.test")
    if reply_to is not None:
        message["In-Reply-To"] = reply_to["Message-ID"]
        message["References"] = f"{reply_to['References']} {reply_to['Message-ID']}".strip()
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def poll(poller: MailPoller) -> int:
    return run(poller.poll_once())


def library_flags(servers: MailServers) -> list[frozenset[str]]:
    return [stored.flags for stored in servers.dovecot.mails()]


def test_a_question_is_answered_in_one_threaded_mail(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    question = mail(sender, "What are your opening hours?\n\nThanks,\nAda\n\n> old quoted text")
    servers.dovecot.append(question)

    assert poll(poller) == 1

    assert [t.text for t in assistant.turns] == ["What are your opening hours?"]
    assert assistant.turns[0].input_channel == "email"
    assert assistant.turns[0].message_id == question["Message-ID"]
    [answer] = servers.smtp.wait_for(sender)
    assert answer["Subject"] == "Re: Opening hours"
    assert answer["In-Reply-To"] == question["Message-ID"]
    assert answer["References"] == question["Message-ID"]
    assert answer["From"] == f"Riverbend Library <{LIBRARY_ADDRESS}>"
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["Message-ID"] != question["Message-ID"]
    body = answer.get_content()
    assert body == "You wrote: What are your opening hours?\n\nAnything else?\n"
    assert library_flags(servers) == [frozenset({"\\Seen"})]
    assert poll(poller) == 0  # seen mail is not read again


def test_replies_continue_the_thread_and_new_threads_share_the_reader(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    store: sessionmaker[Session],
) -> None:
    sender = reader_address()
    first = mail(sender)
    servers.dovecot.append(first)
    poll(poller)
    [answer] = servers.smtp.wait_for(sender)

    follow_up = mail(
        sender, "And on Sunday?\n\nOn Monday Riverbend wrote:\n> hours", reply_to=answer
    )
    servers.dovecot.append(follow_up)
    poll(poller)
    second_answer = servers.smtp.wait_for(sender, 2)[1]
    other_thread = mail(sender.upper(), "Can I renew my loans?", subject="Loans")
    servers.dovecot.append(other_thread)
    poll(poller)

    first_turn, second_turn, third_turn = assistant.turns
    assert second_turn.text == "And on Sunday?"
    assert second_turn.sender_id == first_turn.sender_id
    assert first_turn.sender_id.startswith("email:")
    assert third_turn.sender_id != first_turn.sender_id
    assert second_answer["Subject"] == "Re: Opening hours"
    assert second_answer["In-Reply-To"] == follow_up["Message-ID"]
    assert second_answer["References"].split() == [
        first["Message-ID"],
        answer["Message-ID"],
        follow_up["Message-ID"],
    ]
    with store.begin() as session:
        readers = session.execute(select(Reader).where(Reader.email == sender)).scalars().all()
        assert [(r.email, r.display_name) for r in readers] == [(sender, "Ada Lovelace")]
        conversations = session.execute(
            select(Conversation.sender_id, Conversation.channel, Conversation.reader_id).order_by(
                Conversation.id
            )
        ).all()
        assert [tuple(c) for c in conversations] == [
            (first_turn.sender_id, "email", readers[0].id),
            (third_turn.sender_id, "email", readers[0].id),
        ]
        identities = session.execute(
            select(
                ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.reader_id
            ).order_by(ChannelIdentity.id)
        ).all()
        assert [tuple(i) for i in identities] == [
            ("email", first_turn.sender_id, readers[0].id),
            ("email", third_turn.sender_id, readers[0].id),
        ]


def test_buttons_become_numbered_options_and_a_number_chooses_one(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    servers.dovecot.append(mail(sender, "menu"))
    poll(poller)
    [offer] = servers.smtp.wait_for(sender)
    assert offer.get_content() == (
        "What can I do for you?\n\n1. Opening hours\n2. Talk to a librarian\n\nReply with 1 or 2.\n"
    )

    servers.dovecot.append(
        mail(sender, "2\n\nOn Tuesday the library wrote:\n> 1. Opening hours", reply_to=offer)
    )
    poll(poller)
    servers.dovecot.append(mail(sender, "7", reply_to=offer))
    poll(poller)

    assert [t.text for t in assistant.turns] == ["menu", "/request_human", "7"]
    assert assistant.turns[1].metadata is not None
    assert assistant.turns[1].metadata["button"] is True
    assert assistant.turns[1].metadata["display_text"] == "2"


def test_html_only_mail_becomes_text_and_attachments_are_acknowledged(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    html = mail(sender)
    html.set_content(
        "<html><body><p>Is the <b>Riverside</b> branch open today?</p>"
        "<blockquote>On Monday you wrote: old thread</blockquote></body></html>",
        subtype="html",
    )
    html.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    servers.dovecot.append(html)

    poll(poller)

    assert [t.text for t in assistant.turns] == ["Is the Riverside branch open today?"]
    assert assistant.turns[0].metadata is not None
    assert assistant.turns[0].metadata["email"]["attachments"] == ["receipt.pdf"]
    [answer] = servers.smtp.wait_for(sender)
    assert answer.get_content().startswith(
        "I can't open attachments, so I haven't looked at the attached file (receipt.pdf). "
    )
    assert "You wrote: Is the Riverside branch open today?" in answer.get_content()


@pytest.mark.parametrize(
    ("headers", "sender_local"),
    [
        ({"Auto-Submitted": "auto-replied"}, None),
        ({"Precedence": "bulk"}, None),
        ({"List-Id": "<news.readers.test>"}, None),
        ({"List-Unsubscribe": "<mailto:leave@readers.test>"}, None),
        ({"X-Autoreply": "yes"}, None),
        ({"Return-Path": "<>"}, None),
        ({}, "MAILER-DAEMON"),
        ({}, "postmaster"),
    ],
)
def test_robots_are_never_answered(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    headers: dict[str, str],
    sender_local: str | None,
) -> None:
    sender = reader_address()
    if sender_local:
        sender = f"{sender_local}@readers.test"
    servers.dovecot.append(mail(sender, "I am out of the office until Monday.", headers=headers))

    poll(poller)

    assert assistant.turns == []
    assert library_flags(servers) == [frozenset({"\\Seen"})]
    with pytest.raises(AssertionError):
        servers.smtp.wait_for(sender, timeout=0.5)


def test_a_mail_delivered_twice_is_processed_once(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    question = mail(sender)
    servers.dovecot.append(question)
    servers.dovecot.append(question)

    poll(poller)
    servers.dovecot.append(question)
    poll(poller)

    assert len(assistant.turns) == 1
    assert len(servers.smtp.wait_for(sender)) == 1
    assert library_flags(servers) == [frozenset({"\\Seen"})] * 3


def test_each_sender_is_rate_limited(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = reader_address()
    for number in range(5):
        servers.dovecot.append(mail(sender, f"Question number {number}", subject=f"Q{number}"))
    other = reader_address()
    servers.dovecot.append(mail(other, "A question from someone else"))

    with caplog.at_level(logging.WARNING, logger="connectors.email.poller"):
        poll(poller)

    assert [t.text for t in assistant.turns] == [
        "Question number 0",
        "Question number 1",
        "Question number 2",
        "A question from someone else",
    ]
    assert len(servers.smtp.wait_for(sender, 3)) == 3
    time.sleep(0.5)
    assert len(servers.smtp.to(sender)) == 3
    assert library_flags(servers) == [frozenset({"\\Seen"})] * 6
    assert sum("over the rate limit" in r.getMessage() for r in caplog.records) == 2


def test_an_overlong_message_gets_a_clear_reply(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    question = mail(sender, "word " * 1200)
    servers.dovecot.append(question)

    poll(poller)

    assert assistant.turns == []
    [answer] = servers.smtp.wait_for(sender)
    assert answer["In-Reply-To"] == question["Message-ID"]
    assert answer.get_content() == (
        "Your message is 5,999 characters long, and I can only read 4,000 characters at a "
        "time. Please send a shorter email with just your question.\n"
    )
    assert library_flags(servers) == [frozenset({"\\Seen"})]


def test_a_mail_too_large_to_download_is_answered_from_its_header(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    poller.settings = replace(poller.settings, max_mail_bytes=2048)
    sender = reader_address()
    question = mail(sender, "x" * 3000)
    servers.dovecot.append(question)

    poll(poller)

    assert assistant.turns == []
    [answer] = servers.smtp.wait_for(sender)
    assert answer.get_content().startswith("Your email is too large for me to read")


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe garbage \x81\x82\r\n\r\n\xde\xad\xbe\xef",
        b"Subject: no sender\r\nMessage-ID: <nosender@readers.test>\r\n\r\nWho am I?\r\n",
        b"From: not an address\r\nSubject: hi\r\n\r\nHello\r\n",
    ],
)
def test_malformed_mail_is_flagged_and_kept_and_polling_goes_on(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
) -> None:
    servers.dovecot.append(raw)
    sender = reader_address()
    servers.dovecot.append(mail(sender, "Do you have Dune?"))

    with caplog.at_level(logging.WARNING, logger="connectors.email.poller"):
        assert poll(poller) == 2

    assert [t.text for t in assistant.turns] == ["Do you have Dune?"]
    stored = servers.dovecot.mails()
    assert [m.flags for m in stored] == [frozenset({"\\Seen", "\\Flagged"}), frozenset({"\\Seen"})]
    assert stored[0].raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert any("cannot be answered" in r.getMessage() for r in caplog.records)


def test_a_failed_turn_leaves_the_mail_unseen_and_it_is_retried(
    servers: MailServers, poller: MailPoller, assistant: RecordingAssistant
) -> None:
    sender = reader_address()
    servers.dovecot.append(mail(sender, "Renew my books please"))
    assistant.fail_next = True

    poll(poller)
    assert library_flags(servers) == [frozenset()]
    assert servers.smtp.to(sender) == []

    poll(poller)
    assert [t.text for t in assistant.turns] == ["Renew my books please"]
    assert len(servers.smtp.wait_for(sender)) == 1
    assert library_flags(servers) == [frozenset({"\\Seen"})]


def test_a_receipt_left_by_a_crash_before_rasa_saved_the_turn_does_not_lose_the_mail(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    store: sessionmaker[Session],
) -> None:
    sender = reader_address()
    question = mail(sender, "Where is the book drop?")
    first_receipt(store, "email", question["Message-ID"])  # claimed, then the process died
    with store.begin() as session:
        session.add(
            EmailRow(
                message_id=question["Message-ID"],
                sender_id="email:crashed",
                direction="in",
                address=sender,
                subject="Opening hours",
            )
        )
    servers.dovecot.append(question)

    poll(poller)

    assert [(t.text, t.sender_id) for t in assistant.turns] == [
        ("Where is the book drop?", "email:crashed")
    ]
    assert len(servers.smtp.wait_for(sender)) == 1


def test_imap_outage_is_logged_and_polling_resumes(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = reader_address()
    servers.dovecot.stop()
    try:
        with pytest.raises(EmailTransportError):
            poll(poller)
        done = threading.Event()

        async def run_until_answered() -> None:
            import asyncio

            task = asyncio.create_task(poller.run())
            while not done.is_set():
                await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        with caplog.at_level(logging.WARNING, logger="connectors.email.poller"):
            thread = threading.Thread(target=run, args=(run_until_answered(),))
            thread.start()
            try:
                deadline = time.monotonic() + 30
                while poller.status.last_error is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert poller.status.last_error is not None
                servers.dovecot.start()
                servers.dovecot.append(mail(sender, "Are you open?"))
                servers.smtp.wait_for(sender, timeout=60)
            finally:
                done.set()
                thread.join()
    finally:
        if not servers.dovecot.running:
            servers.dovecot.start()
    assert [t.text for t in assistant.turns] == ["Are you open?"]
    assert any("mailbox unavailable" in r.getMessage() for r in caplog.records)
    assert poller.status.last_error is None
    assert all(
        LIBRARY_ADDRESS not in r.getMessage() or "password" not in r.getMessage()
        for r in caplog.records
    )


def test_proactive_messages_go_to_the_thread_one_mail_each(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    store: sessionmaker[Session],
) -> None:
    sender = reader_address()
    question = mail(sender, "Can a librarian call me back?", subject="Call back")
    servers.dovecot.append(question)
    poll(poller)
    servers.smtp.wait_for(sender)
    output = EmailOutput(MailSender(poller.settings, store))

    run(
        output.send_response(
            assistant.turns[0].sender_id, {"text": "Hello, this is Maria.", "librarian_id": 3}
        )
    )
    run(output.send_response(assistant.turns[0].sender_id, dict(MENU)))

    _, from_librarian, from_bot = servers.smtp.wait_for(sender, 3)
    assert from_librarian["Subject"] == "Re: Call back"
    assert from_librarian["In-Reply-To"] == question["Message-ID"]
    assert from_librarian["References"].split() == [question["Message-ID"]]
    assert from_librarian["Auto-Submitted"] is None
    assert from_librarian.get_content() == "Hello, this is Maria.\n"
    assert from_bot["Auto-Submitted"] == "auto-generated"
    assert "1. Opening hours" in from_bot.get_content()

    servers.dovecot.append(mail(sender, "1", reply_to=from_bot))
    poll(poller)
    assert assistant.turns[-1].text == "/library_hours"
    with pytest.raises(EmailDeliveryError):
        run(output.send_response("email:unknown", {"text": "Hello?"}))


def test_the_connection_check_reports_each_step_without_secrets(
    servers: MailServers, poller: MailPoller
) -> None:
    sender = reader_address()
    servers.dovecot.append(mail(sender, "unseen"))

    results = check(poller.settings, send_to=sender)

    assert results == [
        (
            True,
            f"IMAP: logged in as {LIBRARY_ADDRESS} on 127.0.0.1:{servers.dovecot.port}, "
            "folder 'INBOX': 1 unseen mail(s)",
        ),
        (True, f"SMTP: connected to 127.0.0.1:{servers.smtp.port}"),
        (True, f"SMTP: sent a test mail to {sender}"),
    ]
    [test_mail] = servers.smtp.wait_for(sender)
    assert test_mail["Auto-Submitted"] == "auto-generated"
    assert library_flags(servers) == [frozenset()]  # the check changes no flag

    wrong = replace(poller.settings, imap_password="not-the-password")
    [(imap_ok, imap_line), (smtp_ok, _)] = check(wrong)
    assert (imap_ok, smtp_ok) == (False, True)
    assert "not-the-password" not in imap_line
    assert imap_line.startswith(f"IMAP: {LIBRARY_ADDRESS} on 127.0.0.1:")


def test_a_proactive_send_with_smtp_down_is_kept_in_the_outbox(
    servers: MailServers,
    poller: MailPoller,
    assistant: RecordingAssistant,
    store: sessionmaker[Session],
) -> None:
    """Issue 18: the mail is kept and retried (tests/trust/test_outbox_retry.py), not
    raised to Rasa, whose caller would render and send a second, different mail."""
    sender = reader_address()
    servers.dovecot.append(mail(sender, "Is my hold ready?"))
    poll(poller)
    closed = replace(poller.settings, smtp_port=free_port())
    output = EmailOutput(MailSender(closed, store))

    run(output.send_response(assistant.turns[0].sender_id, {"text": "Your hold is ready."}))

    with store() as session:
        [kept] = undelivered(session, [assistant.turns[0].sender_id])
    assert (kept.status, kept.attempts, kept.retrying) == ("pending", 1, True)
