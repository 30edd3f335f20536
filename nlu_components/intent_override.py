"""Set a message's intent from a rule, ahead of what the classifier ranked."""

from __future__ import annotations

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

__all__ = ["override_intent"]


def override_intent(message: Message, intent_name: str) -> None:
    """Make ``intent_name`` the message's intent with confidence 1.0.

    It also goes first in ``intent_ranking``; the classifier's other guesses stay after it
    (any earlier entry of the same name is dropped), so actions can still offer them.

    Args:
        message: The message being parsed.
        intent_name: The intent a rule decided on.
    """
    guess = {INTENT_NAME_KEY: intent_name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != intent_name
    ]
    message.set(INTENT, guess, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(guess), *ranking], add_to_output=True)
