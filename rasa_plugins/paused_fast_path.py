"""Skip NLU for reader messages in a paused conversation (a live handoff).

While a librarian has the conversation, Rasa predicts nothing: the processor only
logs the reader's message so that the console can show it. Rasa 3.6 still runs the
whole NLU graph on it first, which is over half of the work per message (measured in
``benchmarks/paused_processing.py``) and delays every reader message on its way to the
librarian when many handoffs are live at once.

:func:`install` wraps ``MessageProcessor.parse_message`` so that, when the tracker is
paused, the message is logged with its text and no intent, and
``MessageProcessor.run_action_extract_slots`` so that such a message fills no slots.
Slot extraction would otherwise call the action server for every message (the
identification form's custom slot mappings), although nothing acts on slots while the
conversation is paused; PINs are masked in the text by the tracker store regardless.
Messages starting with ``/`` still go through Rasa's normal parsing, so ``/restart``
(which Rasa honours even while paused) and button payloads keep working. Nothing else
changes: the message is logged with the same text, id, channel and metadata, and the
resumed bot featurizes it by its text, as Rasa does for any message without an intent.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

PAUSED_PARSE_MARKER = "handoff_relay"
"""Value of ``parse_data["handled_by"]`` on messages logged without NLU."""

_original_parse = MessageProcessor.parse_message
_original_extract = MessageProcessor.run_action_extract_slots
_installed = False


def paused_parse_data(message: UserMessage) -> dict[str, Any]:
    """The parse result logged for a reader message during a handoff: text, no intent."""
    return {
        "text": message.text or "",
        "intent": {"name": None, "confidence": 0.0},
        "entities": [],
        "intent_ranking": [],
        "message_id": message.message_id,
        "metadata": message.metadata or {},
        "handled_by": PAUSED_PARSE_MARKER,
    }


def should_skip_nlu(message: UserMessage, tracker: DialogueStateTracker | None) -> bool:
    """True when ``message`` arrives in a paused conversation and is not a ``/`` command."""
    if tracker is None or not tracker.is_paused():
        return False
    return not (message.text or "").lstrip().startswith("/")


async def _parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    if should_skip_nlu(message, tracker):
        return paused_parse_data(message)
    parsed: dict[str, Any] = await _original_parse(self, message, tracker, only_output_properties)
    return parsed


def logged_without_nlu(tracker: DialogueStateTracker) -> bool:
    """True when the tracker's latest reader message was logged by the fast path."""
    latest = tracker.latest_message
    return latest is not None and latest.parse_data.get("handled_by") == PAUSED_PARSE_MARKER


async def _run_action_extract_slots(
    self: MessageProcessor, output_channel: OutputChannel, tracker: DialogueStateTracker
) -> DialogueStateTracker:
    if tracker.is_paused() and logged_without_nlu(tracker):
        return tracker
    return await _original_extract(self, output_channel, tracker)


def install() -> None:
    """Wrap ``MessageProcessor.parse_message`` once; safe to call repeatedly."""
    global _installed
    if _installed:
        return
    MessageProcessor.parse_message = _parse_message
    MessageProcessor.run_action_extract_slots = _run_action_extract_slots
    _installed = True


def uninstall() -> None:
    """Restore Rasa's own methods (for benchmarks that compare both)."""
    global _installed
    MessageProcessor.parse_message = _original_parse
    MessageProcessor.run_action_extract_slots = _original_extract
    _installed = False
