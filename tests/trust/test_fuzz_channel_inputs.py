"""Reader-channel inputs under Hypothesis: the widget's frames and email MIME (issue 18).

Random unicode (NUL, lone surrogates, RTL overrides, zero-width characters), oversized
fields and wrong types go through the widget's frame parser
(``connectors.webchat.protocol.parse_client_frame``, what the socket handler calls on
each frame) and the email channel's parser (``connectors.email.parse.parse_mail``, on
the raw bytes IMAP returns). The answer is always a frame, a defined error
(``FrameError`` / ``MalformedMail``) or a parsed mail whose text is safe: never another
exception, never a NUL, a lone surrogate or a control character in what reaches Rasa.
"""

from __future__ import annotations

import json
import re
import unicodedata
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.email.parse import MalformedMail, parse_mail
from connectors.webchat.protocol import (
    MAX_FRAME_CHARS,
    ClientFrame,
    FrameError,
    error_frame,
    parse_client_frame,
)
from messaging.text_safety import MAX_MESSAGE_CHARS

pytestmark = pytest.mark.trust

QUICK = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

TRICKY = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\u202e", "\u202d", "\u200b", "\u200d", "\ufeff", "\x85",
     "\x1b[31m", "\r\n", "e\u0301", "\U0001f4da"]
)  # fmt: skip
"""NUL, lone surrogates, RTL and LTR overrides, zero-width, BOM, C1, ANSI, CRLF, combining."""

TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=20)), max_size=12).map("".join)
LONG_TEXT = st.integers(MAX_MESSAGE_CHARS - 2, MAX_MESSAGE_CHARS + 50).map(lambda n: "a" * n)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""What must never reach Rasa: C0/C1 controls but newline and tab, lone surrogates."""


def frame_text(kind: Any, fields: dict[str, Any]) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)


@st.composite
def frames(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["message", "button", "hello", "sync", "typing", "ping"]) | JSON_VALUE
    )
    fields = {
        "id": draw(st.one_of(st.text(max_size=80), JSON_VALUE)),
        "text": draw(st.one_of(TEXT, LONG_TEXT, JSON_VALUE)),
        "payload": draw(st.one_of(TEXT, JSON_VALUE)),
        "title": draw(st.one_of(TEXT, JSON_VALUE)),
        "session_id": draw(st.one_of(TEXT, JSON_VALUE)),
        "since": draw(JSON_VALUE),
        "on": draw(JSON_VALUE),
        "resend": draw(JSON_VALUE),
        "secret": draw(JSON_VALUE),
    }
    chosen = {k: v for k, v in fields.items() if draw(st.booleans())}
    return frame_text(kind, chosen)


def check_frame(frame: ClientFrame | None) -> None:
    if frame is None:
        return
    for value in (frame.text, frame.payload or "", frame.id or "", frame.session_id or ""):
        assert not UNSAFE.search(value), repr(value)
    assert len(frame.text) <= MAX_MESSAGE_CHARS
    if frame.type == "message":
        assert frame.text and frame.text == frame.text.strip()


@QUICK
@given(data=st.one_of(frames(), TEXT, st.binary(max_size=40)))
@example(data=frame_text("message", {"id": "m1", "text": "hello \ud800 open?"}))
@example(data=frame_text("message", {"id": "m1", "text": "\x00\u202e\u200b"}))
@example(data=frame_text("message", {"id": "m1", "text": "a" * (MAX_MESSAGE_CHARS + 1)}))
@example(data=frame_text("message", {"id": "m1", "text": 5}))
@example(data="[" * 100_000)
@example(data="x" * (MAX_FRAME_CHARS + 1))
def test_any_widget_frame_gets_a_frame_or_a_defined_error(data: str | bytes) -> None:
    try:
        frame = parse_client_frame(data)
    except FrameError as error:
        reply = error_frame(error)
        assert reply["type"] == "error"
        assert reply["code"] in {"malformed", "too_long", "too_deep", "unknown_type"}
        json.dumps(reply)  # goes back to the widget as JSON
        return
    check_frame(frame)


@QUICK
@given(text=TEXT)
def test_a_message_frame_reaches_rasa_cleaned_and_whole(text: str) -> None:
    try:
        frame = parse_client_frame(frame_text("message", {"id": "m1", "text": text}))
    except FrameError as error:
        assert error.code == "too_long"
        return
    check_frame(frame)
    if frame is not None:
        # Only the unsafe characters went; the reader's words (RTL marks included) stay.
        kept = unicodedata.normalize("NFC", "".join(c for c in text if not UNSAFE.match(c)))
        assert all(c in frame.text or c.isspace() for c in kept)
        assert unicodedata.normalize("NFC", frame.text) == frame.text


ADDRESS = st.one_of(
    st.emails(),
    TEXT,
    st.sampled_from(["", "<>", "a@", "@b", '"x\ud800" <a@b.c>', "=?utf-8?b?AA==?= <a@b.c>"]),
)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    """A raw mail: sometimes well-formed (EmailMessage), sometimes bytes that are not."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=400))
    headers = {
        "From": draw(ADDRESS),
        "To": "ask@library.example.org",
        "Subject": draw(st.one_of(TEXT, LONG_TEXT)),
        "Message-ID": draw(st.one_of(st.just("<m1@readers.test>"), TEXT)),
        "In-Reply-To": draw(st.one_of(st.none(), TEXT)),
        "References": draw(st.one_of(st.none(), TEXT)),
    }
    lines = [
        f"{name}: {value}".encode("utf-8", "surrogatepass") if isinstance(value, str) else b""
        for name, value in headers.items()
        if value is not None
    ]
    body = draw(st.one_of(TEXT, LONG_TEXT)).encode("utf-8", "surrogatepass")
    kind = draw(st.sampled_from([b"text/plain; charset=utf-8", b"text/html", b"multipart/mixed"]))
    return b"\r\n".join([*lines, b"Content-Type: " + kind, b"", body])


def well_formed(sender: str, body: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "ask@library.example.org"
    mail["Subject"] = "Opening hours"
    mail["Message-ID"] = "<m1@readers.test>"
    mail.set_content(body)
    return bytes(mail)


@QUICK
@given(raw=mails())
@example(raw=well_formed("Ada <ada@readers.test>", "When \x00do you \u202eopen\u200b?"))
@example(raw=b"From: \xff\xfe\r\n\r\n\xff")
@example(raw=b"")
def test_any_mail_is_parsed_safely_or_refused_as_malformed(raw: bytes) -> None:
    try:
        mail = parse_mail(raw, own_address="ask@library.example.org")
    except MalformedMail as error:
        assert str(error)  # says why
        return
    for value in (mail.sender, mail.sender_name, mail.subject, mail.body):
        assert isinstance(value, str)
        assert not UNSAFE.search(value), repr(value)
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    assert "@" in mail.sender


def test_a_well_formed_mail_keeps_the_readers_words() -> None:
    mail = parse_mail(well_formed("Ada <ada@readers.test>", "When \x00do you \u202eopen\u200b?"))
    assert (mail.sender, mail.sender_name) == ("ada@readers.test", "Ada")
    # The NUL goes; the reader's RTL override stays (the zero-width space ends as a space).
    assert mail.body == "When do you \u202eopen ?"
