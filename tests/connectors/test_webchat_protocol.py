"""The widget protocol's pure functions: validation, limits and rendering data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.webchat.protocol import (
    MAX_JSON_DEPTH,
    FrameError,
    bot_frame,
    history_frames,
    json_depth_exceeds,
    parse_client_frame,
    valid_session_id,
)
from messaging.text_safety import neutralize_intent_shortcut, offered_payloads, strip_guard


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
    messages: list[dict[str, Any]] = [
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


@pytest.mark.defects
@pytest.mark.parametrize(
    "data",
    [
        "[" * 60_000,  # was a RecursionError that killed the socket
        '{"type": "message", "id": "d1", "text": ' + "[" * 9 + "]" * 9 + "}",
        '{"a": ' * 20 + "1" + "}" * 20,
    ],
)
def test_json_nested_deeper_than_the_limit_is_refused_before_parsing(data: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(data)
    assert error.value.code == "too_deep"
    assert str(MAX_JSON_DEPTH) in error.value.message


def test_json_at_the_depth_limit_and_brackets_inside_strings_are_fine() -> None:
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth_exceeds(nested) is False
    assert json_depth_exceeds("[" + nested + "]") is True
    text = '[[[[{{{{ "quoted \\" [[[[[[[[[[" ]]]]'
    parsed = parse_client_frame(frame(type="message", id="c1", text=text))
    assert parsed is not None and parsed.text == text


def test_an_unterminated_string_of_escaped_quotes_is_scanned_in_one_pass() -> None:
    # Each quote would restart a backtracking string match; the scan must stay linear.
    assert json_depth_exceeds('"\\"' * 20_000 + "[") is False


@pytest.mark.defects
def test_reader_text_is_cleaned_before_any_check() -> None:
    raw = json.dumps({"type": "message", "id": "s1", "text": "hello \ud800 open?\x00\x88"})
    parsed = parse_client_frame(raw)
    assert parsed is not None and parsed.text == "hello \ufffd open?"
    only_controls = json.dumps({"type": "message", "id": "s2", "text": "\x00\x88\x1b"})
    assert parse_client_frame(only_controls) is None  # nothing left to say
    button = json.dumps({"type": "button", "id": "b1", "payload": "/x\x00", "title": "Ho\x9furs"})
    parsed = parse_client_frame(button)
    assert parsed is not None and (parsed.text, parsed.payload) == ("Hours", "/x")


@pytest.mark.parametrize(
    "data",
    [
        frame(type="message", id="bad id", text="x"),  # space
        frame(type="message", id="\ud800", text="x"),
        frame(type="message", id="a\x00", text="x"),
        frame(type="message", id="x" * 65, text="x"),
        '{"type": "hello", "since": 1' + "0" * 400 + "}",  # float() overflows
        '{"type": "hello", "since": 1' + "0" * 5000 + "}",  # beyond Python's digit limit
        '{"type": "hello", "since": NaN}',
        '{"type": "hello", "since": Infinity}',
    ],
)
def test_ids_and_timestamps_that_cannot_be_stored_are_malformed(data: str) -> None:
    with pytest.raises(FrameError) as error:
        parse_client_frame(data)
    assert error.value.code == "malformed"


def test_a_typing_frame_says_on_or_off_and_nothing_else() -> None:
    on = parse_client_frame(json.dumps({"type": "typing", "on": True}))
    off = parse_client_frame(json.dumps({"type": "typing", "on": False}))
    assert on is not None and off is not None
    assert (on.type, on.extra, off.extra) == ("typing", {"on": True}, {"on": False})
    for bad in ({"type": "typing"}, {"type": "typing", "on": "yes"}, {"type": "typing", "on": 1}):
        with pytest.raises(FrameError) as error:
            parse_client_frame(json.dumps(bad))
        assert error.value.code == "malformed"
