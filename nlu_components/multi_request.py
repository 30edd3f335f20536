"""An NLU component that notices when one message holds several requests.

"can you renew my books and also what time do you close today? and is there parking
at riverside" must not be cut down to one intent. When the splitter finds two or
more substantial requests, the intent becomes ``multiple_requests`` and the parts are
passed on under ``requests``, so the assistant can ask which to take first.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu_components._stateless import StatelessComponent
from nlu_components.intent_override import override_intent
from nlu_components.request_splitter import split_requests

REQUESTS_KEY = "requests"
MULTIPLE_INTENT = "multiple_requests"
# Intents whose messages are data, not requests: never split those.
KEEP_WHOLE = frozenset({"inform", "request_human", "non_english", "give_feedback"})


def substantial_requests(text: str, min_words: int = 3) -> list[str]:
    """The requests in ``text`` that have at least ``min_words`` words."""
    return [part for part in split_requests(text) if len(part.split()) >= min_words]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MultiRequestDetector(StatelessComponent, IntentClassifier):
    """Overrides the intent with ``multiple_requests`` for messages holding several requests.

    Config: ``min_chars`` (40), the shortest message considered.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Runs after some intent classifier."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {"min_chars": 40}

    def process(self, messages: list[Message]) -> list[Message]:
        """Mark messages with two or more substantial requests."""
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if len(text) < int(self.component_config["min_chars"]) or intent in KEEP_WHOLE:
                continue
            parts = substantial_requests(text)
            if len(parts) < 2:
                continue
            override_intent(message, MULTIPLE_INTENT)
            message.set(REQUESTS_KEY, parts, add_to_output=True)
        return messages
