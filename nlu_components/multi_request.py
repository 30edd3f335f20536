"""An NLU component that notices when one message holds several requests.

"can you renew my books and also what time do you close today? and is there parking
at riverside" must not be cut down to one intent. When the splitter finds two or
more substantial requests, the intent becomes ``multiple_requests`` and the parts are
passed on under ``requests``, so the assistant can ask which to take first.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from nlu_components.intent_override import IntentOverrider
from nlu_components.request_splitter import split_requests

REQUESTS_KEY = "requests"
MULTIPLE_INTENT = "multiple_requests"
# Intents whose messages are data, not requests: never split those.
KEEP_WHOLE = frozenset({"inform", "request_human", "non_english", "give_feedback"})


def substantial_requests(text: str, min_words: int = 3) -> list[str]:
    """The requests in ``text`` that have at least ``min_words`` words."""
    return [part for part in split_requests(text) if len(part.split()) >= min_words]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MultiRequestDetector(IntentOverrider):
    """Overrides the intent with ``multiple_requests`` for messages holding several requests.

    Config: ``min_chars`` (40), the shortest message considered.
    """

    defaults = {"min_chars": 40}

    def intent_for(self, message: Message, text: str) -> str | None:
        """``multiple_requests`` for two or more substantial requests (kept under ``requests``)."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if len(text) < int(self.component_config["min_chars"]) or intent in KEEP_WHOLE:
            return None
        parts = substantial_requests(text)
        if len(parts) < 2:
            return None
        message.set(REQUESTS_KEY, parts, add_to_output=True)
        return MULTIPLE_INTENT
