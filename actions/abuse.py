"""Abuse and profanity: a calm reply and a librarian, then normal service."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._common import LIBRARIAN_BUTTON, Dispatcher, Events, Named
from nlu_components.abuse_guard import is_abusive

__all__ = ["ActionRespondToAbuse", "calm_reply", "is_abusive"]

CALM_TEXT = (
    "I'm sorry this has been frustrating. I'm here to help with anything library-related, "
    "and a librarian can take over if you'd prefer. What can I do for you?"
)


def calm_reply(dispatcher: CollectingDispatcher) -> None:
    """Answer abuse calmly, offering a librarian; never ask for a rating."""
    dispatcher.utter_message(text=CALM_TEXT, buttons=[LIBRARIAN_BUTTON])


class ActionRespondToAbuse(Named, Action, name="action_respond_to_abuse"):
    """Reply calmly to swearing or insults and offer a librarian."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Calm reply; any half-filled feedback is dropped so no rating prompt follows."""
        calm_reply(dispatcher)
        return [SlotSet("feedback_rating", None), SlotSet("feedback_comment", None)]
