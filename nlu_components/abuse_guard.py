"""Abuse and profanity: a calm reply and a librarian, never a feedback prompt.

"you useless f***ing bot" looks like feedback to a classifier, and a rating prompt is
the worst possible answer to it. :func:`is_abusive` recognises insults and swearing
(with the usual disguises: "f*ck", "sh1t", "fuuuck"); :class:`AbuseGuard`, a Rasa
graph component that runs after the intent classifier and the ``FallbackClassifier``,
turns such a message into the intent ``abuse`` when the classifier's own guess is not
a real request (feedback, chit-chat, out of scope, a fallback), so "this f***ing site
won't let me renew" is still a renewal. The actions use :func:`is_abusive` too, so the
feedback form never starts on abuse whatever the pipeline.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from nlu_components.intent_override import IntentOverrider

__all__ = ["ABUSE_INTENT", "AbuseGuard", "is_abusive"]

ABUSE_INTENT = "abuse"
# Intents a rude message is often mistaken for. A real request, including asking for a
# person ("get me a f***ing human"), keeps its intent when it is predicted confidently.
OVERRIDABLE = frozenset(
    {
        "give_feedback",
        "out_of_scope",
        "nlu_fallback",
        "deny",
        "affirm",
        "greet",
        "goodbye",
        "thank",
        "bot_challenge",
    }
)

_SWEARING = re.compile(
    r"(?<![a-z])(?:"
    r"f+[u*@#0o]+c*k+\w*|f[*#@]+k\w*|fck\w*|fk+ing|fuk\w*|feck\w*|wtf|stfu|ffs|"
    r"sh[i1!*]+t+\w*|bullsh\w*|crap+\w*|bastard\w*|b[i1*]tch\w*|dickheads?|"
    r"piss(?:ed|ing)? off|wank\w*|twat\w*|arse(?:holes?)?|ass ?holes?|a[s$*]{2}hole|"
    r"bollocks|c[u*]nt\w*|prick|douche\w*|jerk|moron\w*|idiot\w*|imbecile|"
    r"retard\w*|dumbass|scumbag\w*"
    r")(?![a-z])",
    re.IGNORECASE,
)
_INSULT = re.compile(
    r"\b(?:you(?:'re| are| r)?|ur|what an?|such an?|(?:this|the|your) (?:stupid |useless )?"
    r"(?:bot|chatbot|robot|machine|app|assistant|thing)(?: is)?)\s+(?:\w+\s+){0,3}?"
    r"(?:useless|stupid|dumb|pathetic|worthless|idiot\w*|moron\w*|rubbish|garbage|trash|"
    r"a joke|waste of space|piece of \w+|incompetent|clueless|brain ?dead|thick)\b"
    r"|\b(?:shut up|screw you|go to hell|get lost|drop dead|i hate (?:you|this bot)|"
    r"you suck|sod off)\b",
    re.IGNORECASE,
)


def is_abusive(text: str) -> bool:
    """Whether a message swears or insults (the bot, the library or anyone)."""
    return bool(_SWEARING.search(text) or _INSULT.search(text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AbuseGuard(IntentOverrider):
    """Sets the intent ``abuse`` on rude messages that carry no real request.

    Config: ``min_request_confidence`` (0.6): a request intent outside
    :data:`OVERRIDABLE` keeps its intent only when predicted at least this confidently.
    """

    defaults = {"min_request_confidence": 0.6}

    def intent_for(self, message: Message, text: str) -> str | None:
        """``abuse`` for an abusive message that asks for nothing else."""
        if not text or text.startswith("/") or not is_abusive(text):
            return None
        intent = message.get(INTENT) or {}
        confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        floor = float(self.component_config["min_request_confidence"])
        if intent.get(INTENT_NAME_KEY) not in OVERRIDABLE and confidence >= floor:
            return None
        return ABUSE_INTENT
