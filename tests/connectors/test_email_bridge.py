"""The email channel inside the real Rasa server, with the real action server.

The ``system`` fixture starts ``launcher up`` with ``RIC_EMAIL_*`` pointing at the
session's dovecot (the library mailbox, polled every 0.5 s) and aiosmtpd (where the
library's answers go; mail for ``ada@readers.test`` is also delivered to her own
IMAP mailbox). Mails are injected with IMAP APPEND, answers are read back from the
SMTP server and from IMAP, and what NLU saw is read from Rasa's tracker.
"""

from __future__ import annotations

import json
import time
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm_store.channels import sender_id_for
from crm_store.models import ChannelIdentity, Conversation, Reader
from tests.standins.email_env import READER_ADDRESS
from tests.standins.mail_servers import LIBRARY_ADDRESS, MailServers
from tests.system import RunningSystem

pytestmark = pytest.mark.rasa

counter = iter(range(10**6))


def new_reader() -> str:
    return f"e2e{next(counter)}-{time.monotonic_ns()}@readers.test"


def mail(
    sender: str,
    body: str,
    subject: str = "Question",
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


def tracker(system: RunningSystem, sender_id: str) -> dict[str, Any]:
    url = f"{system.rasa_url}/conversations/{sender_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def user_texts(system: RunningSystem, sender_id: str) -> list[str]:
    return [e["text"] for e in tracker(system, sender_id)["events"] if e["event"] == "user"]


@pytest.fixture(scope="module")
def email_system(system: RunningSystem, mail_servers: MailServers) -> RunningSystem:
    """The system, once its email channel reports that it is polling."""
    url = f"{system.rasa_url}/webhooks/email/"
    deadline = time.monotonic() + 60
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=10) as reply:
            status = json.loads(reply.read())
        if status.get("imap_connected"):
            return system
        time.sleep(0.2)
    raise AssertionError(f"the email channel never connected: {status}")


def test_health_route_reports_the_mailbox_without_secrets(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    with urllib.request.urlopen(f"{email_system.rasa_url}/webhooks/email/", timeout=10) as reply:
        text = reply.read().decode()
    status = json.loads(text)
    assert status["configured"] is True
    assert status["running"] is True
    assert status["mailbox"] == f"{LIBRARY_ADDRESS}@127.0.0.1/INBOX"
    assert mail_servers.dovecot.users[LIBRARY_ADDRESS] not in text


def test_a_thread_is_one_conversation_and_the_address_is_one_reader(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    question = mail(
        READER_ADDRESS,
        "Hello\n\nOn Monday, Riverbend Library <library@library.test> wrote:\n"
        "> Your loan of Dune is due on Friday.\n",
        subject="Hello there",
    )
    mail_servers.dovecot.append(question)
    [answer] = mail_servers.smtp.wait_for(
        READER_ADDRESS, where=lambda m: m["In-Reply-To"] == question["Message-ID"]
    )
    sender_id = sender_id_for(question["Message-ID"])

    assert user_texts(email_system, sender_id) == ["Hello"]
    assert answer["Subject"] == "Re: Hello there"
    assert answer["References"] == question["Message-ID"]
    assert answer["To"] == READER_ADDRESS
    assert answer.get_content().startswith("Hello! I'm the library assistant.")
    delivered = [m.message["Message-ID"] for m in mail_servers.dovecot.mails(READER_ADDRESS)]
    assert answer["Message-ID"] in delivered

    follow_up = mail(
        READER_ADDRESS, "Thank you!\n\n> Hello! I'm the library assistant.", reply_to=answer
    )
    mail_servers.dovecot.append(follow_up)
    [second] = mail_servers.smtp.wait_for(
        READER_ADDRESS, where=lambda m: m["In-Reply-To"] == follow_up["Message-ID"]
    )
    assert user_texts(email_system, sender_id) == ["Hello", "Thank you!"]
    assert second["References"].split() == [
        question["Message-ID"],
        answer["Message-ID"],
        follow_up["Message-ID"],
    ]

    other = mail(READER_ADDRESS, "What are your opening hours?", subject="Hours")
    mail_servers.dovecot.append(other)
    mail_servers.smtp.wait_for(
        READER_ADDRESS, where=lambda m: m["In-Reply-To"] == other["Message-ID"]
    )
    other_id = sender_id_for(other["Message-ID"])
    assert user_texts(email_system, other_id) == ["What are your opening hours?"]

    engine = create_engine(email_system.database_url, future=True)
    with Session(engine) as session:
        [reader] = (
            session.execute(select(Reader).where(Reader.email == READER_ADDRESS)).scalars().all()
        )
        owners = dict(
            session.execute(
                select(Conversation.sender_id, Conversation.reader_id).where(
                    Conversation.sender_id.in_([sender_id, other_id])
                )
            ).all()
        )
        identities = dict(
            session.execute(
                select(ChannelIdentity.external_id, ChannelIdentity.reader_id).where(
                    ChannelIdentity.channel == "email"
                )
            ).all()
        )
    engine.dispose()
    assert owners == {sender_id: reader.id, other_id: reader.id}
    assert identities[sender_id] == reader.id
    assert identities[other_id] == reader.id


def test_buttons_are_numbered_and_a_number_answers(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    sender = new_reader()
    greeting = mail(sender, "Hi")
    mail_servers.dovecot.append(greeting)
    [offer] = mail_servers.smtp.wait_for(sender)
    assert "1. Opening hours\n2. Talk to a librarian\n\nReply with 1 or 2." in offer.get_content()

    choice = mail(sender, "1\n\nOn Monday the library wrote:\n> 1. Opening hours", reply_to=offer)
    mail_servers.dovecot.append(choice)
    [_, answer] = mail_servers.smtp.wait_for(sender, 2)

    sender_id = sender_id_for(greeting["Message-ID"])
    events = [e for e in tracker(email_system, sender_id)["events"] if e["event"] == "user"]
    assert [e["text"] for e in events] == ["Hi", "/library_hours"]
    assert events[1]["parse_data"]["intent"]["name"] == "library_hours"
    assert answer["In-Reply-To"] == choice["Message-ID"]


def test_html_only_mail_with_an_attachment(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    sender = new_reader()
    question = mail(sender, "")
    question.set_content(
        "<div>Where is the <i>library</i>?</div><blockquote>Earlier: hours</blockquote>",
        subtype="html",
    )
    question.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="map.png")
    mail_servers.dovecot.append(question)

    [answer] = mail_servers.smtp.wait_for(sender)

    assert user_texts(email_system, sender_id_for(question["Message-ID"])) == [
        "Where is the library?"
    ]
    assert answer.get_content().startswith(
        "I can't open attachments, so I haven't looked at the attached file (map.png)."
    )


def test_robots_and_duplicates_get_no_answer(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    sender = new_reader()
    out_of_office = mail(
        sender, "I am away until Monday.", headers={"Auto-Submitted": "auto-replied"}
    )
    question = mail(sender, "Do you have Dune?")
    sentinel = mail(sender, "Thanks", subject="Other")
    for message in (out_of_office, question, question, sentinel):
        mail_servers.dovecot.append(message)

    answers = mail_servers.smtp.wait_for(
        sender, where=lambda m: m["In-Reply-To"] == sentinel["Message-ID"]
    )
    assert len(answers) == 1
    assert [m["In-Reply-To"] for m in mail_servers.smtp.to(sender)] == [
        question["Message-ID"],
        sentinel["Message-ID"],
    ]
    assert user_texts(email_system, sender_id_for(question["Message-ID"])) == ["Do you have Dune?"]
    assert user_texts(email_system, sender_id_for(out_of_office["Message-ID"])) == []


def test_a_librarian_reply_through_the_events_api_arrives_by_email(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    sender = new_reader()
    question = mail(sender, "I need to talk to a person", subject="Help")
    mail_servers.dovecot.append(question)
    mail_servers.smtp.wait_for(sender)
    sender_id = sender_id_for(question["Message-ID"])

    event = {
        "event": "bot",
        "text": "Hello, this is Maria from the library. Your hold is ready.",
        "metadata": {"librarian_id": 1},
    }
    request = urllib.request.Request(
        f"{email_system.rasa_url}/conversations/{sender_id}/tracker/events"
        f"?execute_side_effects=true&output_channel=email&token={email_system.token}",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200

    [_, proactive] = mail_servers.smtp.wait_for(sender, 2)
    assert proactive.get_content() == "Hello, this is Maria from the library. Your hold is ready.\n"
    assert proactive["Subject"] == "Re: Help"
    assert proactive["In-Reply-To"] == question["Message-ID"]
    assert proactive["Auto-Submitted"] is None


def test_a_handoff_started_by_email_is_answered_from_the_console(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    from crm_store.db import make_engine, make_session_factory
    from crm_store.repositories import conversation_of
    from handoff_console.accounts import create_staff, issue_api_token
    from tests.handoff_console.conftest import ApiClient
    from tests.handoff_console.console_server import ConsoleServer

    sessions = make_session_factory(make_engine(email_system.database_url))
    with sessions.begin() as session:
        staff = create_staff(
            session,
            username=f"mail{time.monotonic_ns()}",
            password="email-test-passphrase-1",
            display_name="Robin Mail",
            capacity=20,
        )
        token = issue_api_token(session, staff.id, "email tests")
    console = ConsoleServer(None, email_system.console_port, Path("/dev/null"))  # type: ignore[arg-type]
    api = ApiClient(console, token)

    sender = new_reader()
    question = mail(sender, "I'd like to talk to a librarian please", subject="Thesis help")
    mail_servers.dovecot.append(question)
    [handing_off] = mail_servers.smtp.wait_for(sender)
    assert "asked a librarian to join" in handing_off.get_content()
    sender_id = sender_id_for(question["Message-ID"])
    with sessions() as session:
        conversation = conversation_of(session, sender_id)
        assert conversation is not None
        conversation_id = conversation.id

    queue = api.get("/api/queue").json()["items"]
    item = next(i for i in queue if i["conversation_id"] == conversation_id)
    assert (item["status"], item["channel"]) == ("waiting", "email")
    assert api.post(f"/api/conversations/{conversation_id}/claim").status == 200
    text = "Hello, I'm Robin. <b>Which</b> chapter & which style guide?"
    sent = api.post(f"/api/conversations/{conversation_id}/messages", {"text": text})
    assert sent.status == 201, sent.text

    [_, from_librarian] = mail_servers.smtp.wait_for(sender, 2)
    assert from_librarian.get_content() == f"{text}\n"
    assert from_librarian["Subject"] == "Re: Thesis help"
    assert from_librarian["In-Reply-To"] == question["Message-ID"]
    assert from_librarian["Auto-Submitted"] is None

    answer = mail(sender, "Chapter 3, APA please.\n\n> Hello, I'm Robin.", reply_to=from_librarian)
    mail_servers.dovecot.append(answer)
    deadline = time.monotonic() + 30
    texts: list[str] = []
    while time.monotonic() < deadline and "Chapter 3, APA please." not in texts:
        view = api.get(f"/api/conversations/{conversation_id}").json()
        texts = [m["text"] for m in view["messages"] if m["sender_kind"] == "reader"]
        time.sleep(0.2)
    assert "Chapter 3, APA please." in texts
    assert user_texts(email_system, sender_id)[-1] == "Chapter 3, APA please."
    with sessions() as session:
        reader_id = session.execute(select(Reader.id).where(Reader.email == sender)).scalar_one()
        owner = session.get(Conversation, conversation_id)
        assert owner is not None
        assert owner.reader_id == reader_id


@pytest.mark.defects
def test_control_characters_in_a_mail_never_reach_rasa(
    email_system: RunningSystem, mail_servers: MailServers
) -> None:
    sender = new_reader()
    # No NUL here: the IMAP server itself replaces it (test_email_units covers NUL).
    question = mail(sender, "Are you open\x07 on Sunday?\x88\x1b", subject="Sunday\x88 hours\x01")
    mail_servers.dovecot.append(question)
    [answer] = mail_servers.smtp.wait_for(
        sender, where=lambda m: m["In-Reply-To"] == question["Message-ID"]
    )
    assert user_texts(email_system, sender_id_for(question["Message-ID"])) == [
        "Are you open on Sunday?"
    ]
    assert answer["Subject"] == "Re: Sunday hours"
