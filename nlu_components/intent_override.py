"""Set a message's intent from a rule, ahead of what the classifier ranked.

:func:`override_intent` does it for one message; :class:`IntentOverrider` is the base
of the pipeline components that do it by rule (``AbuseGuard``, ``MultiRequestDetector``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu_components._stateless import StatelessComponent

__all__ = ["IntentOverrider", "override_intent"]


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


class IntentOverrider(StatelessComponent, IntentClassifier):
    """A component that runs after some intent classifier and may overrule it by a rule.

    It trains nothing. A subclass lists its options and their defaults in ``defaults``
    and implements :meth:`intent_for`, which looks at one message (and may note what
    it found on it); the intent it returns replaces the classifier's.
    """

    defaults: ClassVar[dict[str, Any]] = {}

    @classmethod
    def required_components(cls) -> list[type]:
        """Runs after some intent classifier."""
        return [IntentClassifier]

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """The component's default config: a copy of ``defaults``."""
        return dict(cls.defaults)

    def intent_for(self, message: Message, text: str) -> str | None:
        """The intent that overrules the classifier's for this message, or None to keep it."""
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent of each message for which :meth:`intent_for` names one."""
        for message in messages:
            intent = self.intent_for(message, str(message.get(TEXT) or ""))
            if intent is not None:
                override_intent(message, intent)
        return messages
