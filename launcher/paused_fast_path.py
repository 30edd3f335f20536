"""Skip NLU for reader messages in a paused conversation (a live handoff).

While a librarian has the conversation, Rasa predicts nothing: the processor only
logs the reader's message so that the console can show it. Rasa 3.6 still runs the
whole NLU graph on it first, which is over half of the work per message (measured in
``benchmarks/paused_processing.py``) and delays every reader message on its way to the
librarian when many handoffs are live at once.

:func:`install` wraps ``MessageProcessor.parse_message`` so that, when the tracker is
paused, the message is logged with its text and no intent. Messages starting with
``/`` still go through Rasa's normal parsing, so ``/restart`` (which Rasa honours even
while paused) and button payloads keep working. Nothing else changes: the message is
logged with the same text, id, channel and metadata, and the resumed bot featurizes
it by its text, as Rasa does for any message without an intent.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

PAUSED_PARSE_MARKER = "handoff_relay"
"""Value of ``parse_data["handled_by"]`` on messages logged without NLU."""

_original_parse = MessageProcessor.parse_message
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
    return await _original_parse(self, message, tracker, only_output_properties)


def install() -> None:
    """Wrap ``MessageProcessor.parse_message`` once; safe to call repeatedly."""
    global _installed
    if _installed:
        return
    MessageProcessor.parse_message = _parse_message  # type: ignore[method-assign]
    _installed = True
