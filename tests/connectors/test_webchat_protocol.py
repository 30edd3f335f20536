"""The widget protocol's pure functions: validation, limits and rendering data."""

from __future__ import annotations

import json

import pytest

from connectors.text_safety import neutralize_intent_shortcut, offered_payloads, strip_guard
from connectors.webchat_protocol import (
    FrameError,
    bot_frame,
    history_frames,
    parse_client_frame,
    valid_session_id,
)


def frame(**fields: object) -> str:
    return json.dumps(fields)


def test_message_frame_is_parsed_and_trimmed() -> None:
    parsed = parse_client_frame(frame(type="message", id="c1", text="  renew my books \n"))
    assert parsed is not None
    assert (parsed.type, parsed.id, parsed.text, parsed.resend) == (
        "message",
        "c1",
        "renew my books",
        False,
    )


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_messages_are_ignored(text: str) -> None:
    assert parse_client_frame(frame(type="message", id="c1", text=text)) is None


def test_message_over_the_limit_gets_a_clear_error() -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(frame(type="message", id="c9", text="a" * 4001))
    assert error.value.code == "too_long"
    assert error.value.frame_id == "c9"
    assert "4001 characters" in error.value.message and "4000" in error.value.message


def test_message_at_the_limit_is_accepted() -> None:
    parsed = parse_client_frame(frame(type="message", id="c1", text="a" * 4000))
    assert parsed is not None and len(parsed.text) == 4000


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        (b"\x00\x01", "malformed"),
        (frame(type="message", text="no id"), "malformed"),
        (frame(type="message", id="c1", text=42), "malformed"),
        (frame(type="button", id="c1", payload=None, title="x"), "malformed"),
        (frame(type="hello", since="yesterday"), "malformed"),
        (frame(type="hello", since=-1), "malformed"),
        (frame(type="launch_missiles"), "unknown_type"),
        ("x" * 70_000, "too_long"),
    ],
)
def test_malformed_frames_raise_frame_errors(data: str | bytes, code: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(data)
    assert error.value.code == code


def test_hello_with_a_bad_session_id_gets_none_so_the_server_issues_one() -> None:
    parsed = parse_client_frame(frame(type="hello", session_id="../../etc/passwd", since=0))
    assert parsed is not None and parsed.session_id is None
    good = "5f0c1a9e-7a55-4d5e-9a43-0f1d2c3b4a59"
    assert valid_session_id(good.upper()) == good


@pytest.mark.parametrize(
    "typed", ['/renew_loans{"card_number": "21234000123456"}', "  /greet", "/check_fines@1.0"]
)
def test_intent_shortcuts_typed_by_a_reader_become_plain_text(typed: str) -> None:
    safe = neutralize_intent_shortcut(typed)
    assert not safe.strip().startswith("/")
    assert strip_guard(safe) == typed.strip()


def test_ordinary_text_is_untouched() -> None:
    assert neutralize_intent_shortcut("is 1/2 price on sale?") == "is 1/2 price on sale?"


def test_offered_payloads_collects_buttons_and_quick_replies() -> None:
    messages = [
        {"buttons": [{"title": "Hours", "payload": "/library_hours"}]},
        {"quick_replies": [{"title": "Yes", "payload": "/affirm"}]},
        {"text": "plain"},
    ]
    assert offered_payloads(messages) == {"/library_hours", "/affirm"}


def test_bot_frame_marks_librarian_messages() -> None:
    message = {"text": "Hi, I'm Sam", "timestamp": 12.5, "librarian_name": "Sam", "buttons": None}
    assert bot_frame(message) == {
        "type": "bot",
        "ts": 12.5,
        "text": "Hi, I'm Sam",
        "sender": "librarian",
        "name": "Sam",
    }


def test_history_frames_restores_reader_and_bot_messages_after_since() -> None:
    events = [
        {"event": "action", "timestamp": 1.0, "name": "action_listen"},
        {"event": "user", "timestamp": 2.0, "text": "\u2060/greet", "message_id": "a"},
        {
            "event": "bot",
            "timestamp": 3.0,
            "text": "Hello",
            "data": {"buttons": [{"title": "Hours", "payload": "/library_hours"}]},
            "metadata": {},
        },
        {
            "event": "user",
            "timestamp": 4.0,
            "text": "/library_hours",
            "message_id": "b",
            "metadata": {"display_text": "Hours"},
        },
    ]
    assert history_frames(events) == [
        {"type": "reader", "ts": 2.0, "id": "a", "text": "/greet", "sender": "reader"},
        {
            "type": "bot",
            "ts": 3.0,
            "text": "Hello",
            "sender": "bot",
            "buttons": [{"title": "Hours", "payload": "/library_hours"}],
        },
        {"type": "reader", "ts": 4.0, "id": "b", "text": "Hours", "sender": "reader"},
    ]
    assert [f["ts"] for f in history_frames(events, since=3.0)] == [4.0]
