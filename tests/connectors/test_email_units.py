"""Pure parts of the email channel: parsing, loop protection, rendering, settings, store logic."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.email.parse import MalformedMail, message_ids, parse_mail
from connectors.email.render import (
    attachment_note,
    build_mail,
    chosen_payload,
    render_messages,
    reply_subject,
)
from connectors.email.settings import EmailSettings, RateLimit, parse_rate_limit
from crm_store import channels as email_store
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import ChannelIdentity, Conversation, Reader

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def raw(headers: dict[str, str], body: str = "Is the library open on Sunday?") -> bytes:
    message = EmailMessage()
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


PERSON = {"From": "Ada Lovelace <Ada@Readers.Test>", "Subject": "Re: Sunday", "Message-ID": "<a@r>"}


def test_parse_reads_sender_thread_and_the_readers_own_text() -> None:
    mail = parse_mail(
        raw(
            {**PERSON, "In-Reply-To": "<b@lib>", "References": "<root@r> <b@lib>"},
            "Is the library open on Sunday?\n\nBest,\nAda\n\nOn Monday the library wrote:\n> hi",
        )
    )
    assert (mail.sender, mail.sender_name, mail.subject) == (
        "ada@readers.test",
        "Ada Lovelace",
        "Re: Sunday",
    )
    assert mail.body == "Is the library open on Sunday?"
    assert (mail.message_id, mail.in_reply_to, mail.references) == (
        "<a@r>",
        "<b@lib>",
        ("<root@r>", "<b@lib>"),
    )
    assert mail.thread_ids == ("<b@lib>", "<root@r>")
    assert mail.thread_root == "<root@r>"
    assert mail.automated is None


def test_a_mail_without_message_id_gets_a_stable_synthetic_one() -> None:
    data = raw({"From": "ada@readers.test", "Subject": "Hi"})
    first, second = parse_mail(data), parse_mail(data)
    assert first.message_id == second.message_id
    assert first.message_id.endswith("@no-message-id.invalid>")
    assert first.thread_root == first.message_id


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, "auto-submitted"),
        ({"Precedence": "bulk"}, "precedence bulk"),
        ({"Precedence": "junk"}, "precedence junk"),
        ({"Precedence": "list"}, "precedence list"),
        ({"List-Id": "<a.b>"}, "mailing list"),
        ({"List-Unsubscribe": "<mailto:u@x>"}, "mailing list"),
        ({"X-Autoreply": "yes"}, "autoreply header"),
        ({"Return-Path": "<>"}, "null return path"),
        ({"From": "MAILER-DAEMON@mx.readers.test"}, "system sender"),
        ({"From": "postmaster@readers.test"}, "system sender"),
        ({"From": "no-reply@readers.test"}, "system sender"),
        ({"From": "Library <library@library.test>"}, "own address"),
        ({"Auto-Submitted": "no"}, None),
        ({"Precedence": "first-class"}, None),
    ],
)
def test_automated_mail_is_recognised(headers: dict[str, str], reason: str | None) -> None:
    mail = parse_mail(raw({**PERSON, **headers}), own_address="library@library.test")
    assert mail.automated == reason


def test_delivery_reports_are_bounces() -> None:
    report = EmailMessage()
    report["From"] = "mail-system@readers.test"
    report["Message-ID"] = "<dsn@r>"
    report.set_content("Delivery failed")
    report.add_attachment("Action: failed\n", subtype="delivery-status")
    report.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    assert parse_mail(report.as_bytes()).automated == "delivery report"


def test_html_only_mail_is_converted_and_attachments_are_listed() -> None:
    message = EmailMessage()
    message["From"] = "ada@readers.test"
    message.set_content("<p>Hello <b>there</b></p><blockquote>old</blockquote>", subtype="html")
    message.add_attachment(b"data", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment(b"data", maintype="application", subtype="octet-stream")
    mail = parse_mail(message.as_bytes())
    assert (mail.body, mail.html_only, mail.attachments) == (
        "Hello there",
        True,
        ("a.pdf", "unnamed"),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"Subject: nobody\r\n\r\nhi",
        b"From: nobody at all\r\n\r\nhi",
        b"From: =?utf-8?q?broken\r\n\r\nhi",
    ],
)
def test_mail_without_a_usable_sender_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedMail):
        parse_mail(data)


def test_unknown_charsets_do_not_break_parsing() -> None:
    data = (
        b"From: ada@readers.test\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n"
        b"Caf\xe9 hours?\r\n"
    )
    assert parse_mail(data).body == "Caf\ufffd hours?"


def test_message_ids_are_extracted_from_headers() -> None:
    assert message_ids("<a@b>  <c@d>\r\n <e@f>") == ["<a@b>", "<c@d>", "<e@f>"]
    assert message_ids(None) == []


def test_render_numbers_buttons_across_the_mail_and_links_become_plain() -> None:
    rendered = render_messages(
        [
            {"text": "See [our hours](https://library.test/hours)."},
            {
                "text": "Which one?",
                "buttons": [
                    {"title": "Dune", "payload": "/place_hold"},
                    {"title": "Emma", "payload": "/search_catalog"},
                    {"title": "Website", "url": "https://library.test", "type": "web_url"},
                ],
            },
            {"text": "Or", "quick_replies": [{"title": "None", "payload": "/deny"}]},
        ],
        preface=[attachment_note(["a.pdf"])],
    )
    assert rendered.text == (
        "I can't open attachments, so I haven't looked at the attached file (a.pdf). "
        "Please write your question in the text of your email.\n\n"
        "See our hours (https://library.test/hours).\n\n"
        "Which one?\n\n"
        "1. Dune\n2. Emma\n- Website: https://library.test\n\nReply with 1 or 2.\n\n"
        "Or\n\n3. None\n\nReply with 3."
    )
    assert rendered.buttons == [
        {"title": "Dune", "payload": "/place_hold"},
        {"title": "Emma", "payload": "/search_catalog"},
        {"title": "None", "payload": "/deny"},
    ]


def test_render_elements_as_a_numbered_list() -> None:
    rendered = render_messages(
        [
            {
                "elements": [
                    {"title": "Dune", "subtitle": "Herbert, 1965", "buttons": []},
                    {"title": "Emma", "subtitle": "Austen"},
                ]
            }
        ]
    )
    assert rendered.text == "1) Dune\n   Herbert, 1965\n\n2) Emma\n   Austen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", "/b"),
        (" 3. ", "/c"),
        ("#1", "/a"),
        ("Option 2", "/b"),
        ("4", None),
        ("0", None),
        ("2 please", None),
        ("22", None),
    ],
)
def test_a_number_chooses_an_offered_button(text: str, expected: str | None) -> None:
    buttons = [{"payload": "/a"}, {"payload": "/b"}, {"payload": "/c"}]
    assert chosen_payload(text, buttons) == expected


def test_three_options_read_naturally() -> None:
    rendered = render_messages(
        [{"text": "Pick", "buttons": [{"title": t, "payload": t} for t in "xyz"]}]
    )
    assert rendered.text.endswith("Reply with 1, 2 or 3.")


def test_reply_subject_does_not_stack_prefixes() -> None:
    assert reply_subject("RE: Fwd: [External] Renewal") == "Re: Renewal"
    assert reply_subject("") == "Re: Your message to the library"


def test_build_mail_sets_threading_and_loop_protection_headers() -> None:
    mail = build_mail(
        from_address="Library <library@library.test>",
        to="ada@readers.test",
        subject="Re: Hours",
        body="Open 9-5",
        message_id="<new@library.test>",
        in_reply_to="<q@r>",
        references=["<root@r>", "<q@r>"],
    )
    assert (mail["In-Reply-To"], mail["References"], mail["Auto-Submitted"]) == (
        "<q@r>",
        "<root@r> <q@r>",
        "auto-replied",
    )
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail.get_content() == "Open 9-5\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20", RateLimit(20, 3600)),
        ("5/minute", RateLimit(5, 60)),
        ("3/600s", RateLimit(3, 600)),
        ("100 / day", RateLimit(100, 86400)),
    ],
)
def test_rate_limit_forms(value: str, expected: RateLimit) -> None:
    assert parse_rate_limit(value) == expected


def test_settings_from_env_and_passwords_stay_out_of_repr() -> None:
    settings = EmailSettings.from_env(
        {
            "RIC_EMAIL_IMAP_HOST": "imap.library.test",
            "RIC_EMAIL_IMAP_USER": "help@library.test",
            "RIC_EMAIL_IMAP_PASSWORD": "imap-secret",
            "RIC_EMAIL_SMTP_HOST": "smtp.library.test",
            "RIC_EMAIL_SMTP_PASSWORD": "smtp-secret",
            "RIC_EMAIL_SMTP_STARTTLS": "no",
        }
    )
    assert (settings.imap_port, settings.imap_ssl, settings.smtp_port) == (993, True, 25)
    assert settings.from_address == "help@library.test"
    assert settings.configured
    assert "secret" not in repr(settings)
    assert not EmailSettings.from_env({}).configured
    with pytest.raises(ValueError, match="RIC_EMAIL_RATE_LIMIT"):
        EmailSettings.from_env({"RIC_EMAIL_RATE_LIMIT": "lots"})


def test_thread_references_end_with_the_message_answered() -> None:
    thread = email_store.Thread(
        sender_id="email:x",
        address="ada@readers.test",
        subject="Hours",
        message_ids=tuple(f"<{n}@x>" for n in range(30)),
        last_inbound_id="<25@x>",
    )
    references = thread.references
    assert thread.in_reply_to == "<25@x>"
    assert references[0] == "<0@x>"
    assert references[-1] == "<25@x>"
    assert len(references) == 20


def _user_event(sender_id: str) -> RasaEvent:
    return RasaEvent(
        sender_id,
        {"event": "user", "timestamp": WHEN.timestamp(), "text": "hi", "input_channel": "email"},
    )


def _owners(session: Session, sender_id: str) -> tuple[int | None, int]:
    conversation = session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalar_one()
    identity = session.execute(
        select(ChannelIdentity).where(ChannelIdentity.external_id == sender_id)
    ).scalar_one()
    return conversation.reader_id, identity.reader_id


def test_link_reader_then_ingestion_keeps_the_email_reader(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        reader_id = email_store.link_reader(session, "email:t1", "Ada@Readers.Test", "Ada", WHEN)
    with sessions.begin() as session:
        ingest(session, [_user_event("email:t1")], "catchup")
    with sessions.begin() as session:
        assert _owners(session, "email:t1") == (reader_id, reader_id)
        reader = session.get(Reader, reader_id)
        assert reader is not None
        assert (reader.email, reader.display_name) == ("ada@readers.test", "Ada")


def test_link_reader_after_ingestion_moves_the_identity_off_the_anonymous_reader(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        ingest(session, [_user_event("email:t2")], "catchup")
    with sessions.begin() as session:
        reader_id = email_store.link_reader(session, "email:t2", "ada@readers.test", "", WHEN)
    with sessions.begin() as session:
        assert _owners(session, "email:t2") == (reader_id, reader_id)
        second = email_store.link_reader(session, "email:t3", "ADA@readers.test", "", WHEN)
        assert second == reader_id
        readers = session.execute(select(Reader).where(Reader.email.is_not(None))).scalars()
        assert [r.email for r in readers] == ["ada@readers.test"]


def test_a_merged_identity_is_left_alone(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        email_store.link_reader(session, "email:t4", "ada@readers.test", "", WHEN)
        verified = Reader(card_number="21234000012345", display_name="Ada L.")
        session.add(verified)
        session.flush()
        identity = session.execute(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "email:t4")
        ).scalar_one()
        identity.reader_id = verified.id  # a librarian merged the records
        conversation = session.execute(
            select(Conversation).where(Conversation.sender_id == "email:t4")
        ).scalar_one()
        conversation.reader_id = verified.id
        verified_id = verified.id
    with sessions.begin() as session:
        assert email_store.link_reader(session, "email:t4", "ada@readers.test", "", WHEN) == (
            verified_id
        )
        assert _owners(session, "email:t4") == (verified_id, verified_id)


def test_rate_counts_and_offered_buttons(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for number in range(3):
            email_store.record_message(
                session,
                message_id=f"<in{number}@r>",
                sender_id="email:t5",
                direction="in",
                address="Ada@readers.test",
                subject="Hours",
                when=WHEN + timedelta(minutes=number * 40),
            )
        email_store.record_message(
            session,
            message_id="<out@lib>",
            sender_id="email:t5",
            direction="out",
            address="ada@readers.test",
            subject="Re: Hours",
            buttons=[{"title": "Yes", "payload": "/affirm"}],
            when=WHEN,
        )
        email_store.record_message(  # recording twice is a no-op
            session,
            message_id="<out@lib>",
            sender_id="email:other",
            direction="out",
            address="x@y.z",
            subject=None,
            when=WHEN,
        )
    with sessions.begin() as session:
        since = WHEN + timedelta(minutes=30)
        assert email_store.count_recent_inbound(session, "ada@readers.test", since) == 2
        assert email_store.offered_buttons(session, "email:t5", "<out@lib>") == [
            {"title": "Yes", "payload": "/affirm"}
        ]
        assert email_store.offered_buttons(session, "email:t5", None) == [
            {"title": "Yes", "payload": "/affirm"}
        ]
        assert email_store.offered_buttons(session, "email:none", None) == []
        assert email_store.find_thread(session, ["<nope@x>", "<in1@r>"]) == "email:t5"
        thread = email_store.thread_of(session, "email:t5")
        assert thread is not None
        assert (thread.address, thread.subject, thread.last_inbound_id) == (
            "ada@readers.test",
            "Hours",
            "<in2@r>",
        )


def test_sender_ids_are_stable_and_case_insensitive() -> None:
    assert email_store.sender_id_for("<A@B>") == email_store.sender_id_for("<a@b>")
    assert email_store.sender_id_for("<a@b>").startswith("email:")
    assert len(email_store.sender_id_for("<a@b>")) == len("email:") + 32


@pytest.mark.defects
def test_control_characters_and_undecodable_bytes_are_cleaned_from_mail() -> None:
    data = (
        b"From: Ada \x01Lovelace <ada@readers.test>\r\nSubject: Sunday\x00 hours\xc2\x88?\r\n"
        b"Message-ID: <a\x7fb@readers.test>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        # \xed\xa0\x80 is a surrogate encoded as if it were a character: not UTF-8.
        b"Open on Sunday\x00?\xc2\x88 \xed\xa0\x80 thanks\x1b\r\n"
    )
    mail = parse_mail(data)
    assert (mail.sender_name, mail.subject) == ("Ada Lovelace", "Sunday hours?")
    assert mail.body == "Open on Sunday? \ufffd\ufffd\ufffd thanks"
    assert mail.message_id == "<ab@readers.test>"
    for text in (mail.sender_name, mail.subject, mail.body, mail.message_id):
        text.encode("utf-8")  # nothing a database or socket could refuse
