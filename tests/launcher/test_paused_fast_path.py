"""Messages in a paused conversation are logged without NLU; everything else is parsed."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ConversationPaused, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_plugins.paused_fast_path import PAUSED_PARSE_MARKER, paused_parse_data, should_skip_nlu
from tests.aio import run
from tests.system import RunningSystem


def _tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("reader-1", list(events))


def test_only_paused_plain_text_skips_nlu() -> None:
    hello = UserMessage("hello, is anyone there?", sender_id="reader-1")
    restart = UserMessage("  /restart", sender_id="reader-1")
    assert should_skip_nlu(hello, _tracker(ConversationPaused()))
    assert not should_skip_nlu(restart, _tracker(ConversationPaused()))
    assert not should_skip_nlu(hello, _tracker())
    assert not should_skip_nlu(hello, _tracker(ConversationPaused(), ConversationResumed()))
    assert not should_skip_nlu(hello, None)


def test_paused_parse_keeps_text_id_and_metadata() -> None:
    message = UserMessage(
        "<b>still</b> waiting", sender_id="r", message_id="m-1", metadata={"client": "x"}
    )
    data = paused_parse_data(message)
    assert data["text"] == "<b>still</b> waiting"
    assert data["intent"] == {"name": None, "confidence": 0.0}
    assert (data["message_id"], data["metadata"]) == ("m-1", {"client": "x"})
    assert data["handled_by"] == PAUSED_PARSE_MARKER
    event = UserUttered(data["text"], data["intent"], data["entities"], data)
    assert event.use_text_for_featurization  # the resumed bot featurizes it by text


def _call(system: RunningSystem, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{system.rasa_url}{path}?token={system.token}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read() or b"null")


def _latest(system: RunningSystem, sender: str, text: str) -> dict[str, Any]:
    tracker = _call(system, "GET", f"/conversations/{sender}/tracker")
    [event] = [e for e in tracker["events"] if e["event"] == "user" and e["text"] == text]
    return dict(event["parse_data"])


def test_the_running_rasa_skips_nlu_only_while_paused(system: RunningSystem) -> None:
    sender = f"fast-path-{uuid.uuid4().hex[:8]}"
    _call(system, "POST", f"/conversations/{sender}/messages", {"text": "hello", "sender": "user"})
    assert _latest(system, sender, "hello")["intent"]["name"] == "greet"

    _call(system, "POST", f"/conversations/{sender}/tracker/events", {"event": "pause"})
    _call(
        system, "POST", f"/conversations/{sender}/messages", {"text": "hi again", "sender": "user"}
    )
    paused = _latest(system, sender, "hi again")
    assert paused["intent"]["name"] is None
    assert paused["handled_by"] == PAUSED_PARSE_MARKER

    _call(system, "POST", f"/conversations/{sender}/tracker/events", {"event": "resume"})
    _call(
        system,
        "POST",
        f"/conversations/{sender}/messages",
        {"text": "good morning", "sender": "user"},
    )
    resumed = _latest(system, sender, "good morning")
    assert resumed["intent"]["name"] == "greet"
    assert "handled_by" not in resumed

    # Commands still reach Rasa's parser while paused: /restart ends the handoff.
    _call(system, "POST", f"/conversations/{sender}/tracker/events", {"event": "pause"})
    _call(
        system, "POST", f"/conversations/{sender}/messages", {"text": "/restart", "sender": "user"}
    )
    assert _latest(system, sender, "/restart")["intent"]["name"] == "restart"


def test_slot_extraction_is_skipped_only_for_messages_logged_without_nlu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa_plugins import paused_fast_path

    calls: list[str] = []

    async def original(self: Any, output_channel: Any, tracker: Any) -> Any:
        calls.append(tracker.sender_id)
        return tracker

    monkeypatch.setattr(paused_fast_path, "_original_extract", original)
    message = UserMessage("is anyone there?", sender_id="r")
    relayed = UserUttered(message.text, parse_data=paused_parse_data(message))
    parsed = UserUttered("/restart", intent={"name": "restart"}, parse_data={})

    async def extract(*events: Any) -> None:
        tracker = _tracker(*events)
        result = await paused_fast_path._run_action_extract_slots(None, None, tracker)  # type: ignore[arg-type]
        assert result is tracker

    run(extract(ConversationPaused(), relayed))
    assert calls == []
    run(extract(ConversationPaused(), parsed))
    run(extract(relayed))
    assert calls == ["reader-1", "reader-1"]
