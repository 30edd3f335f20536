"""Abuse and profanity: a calm reply and a librarian, then normal service."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._common import LIBRARIAN_BUTTON
from nlu_components.abuse_guard import is_abusive

__all__ = ["ActionRespondToAbuse", "calm_reply", "is_abusive"]

CALM_TEXT = (
    "I'm sorry this has been frustrating. I'm here to help with anything library-related, "
    "and a librarian can take over if you'd prefer. What can I do for you?"
)


def calm_reply(dispatcher: CollectingDispatcher) -> None:
    """Answer abuse calmly, offering a librarian; never ask for a rating."""
    dispatcher.utter_message(text=CALM_TEXT, buttons=[LIBRARIAN_BUTTON])


class ActionRespondToAbuse(Action):
    """Reply calmly to swearing or insults and offer a librarian."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_respond_to_abuse"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Calm reply; any half-filled feedback is dropped so no rating prompt follows."""
        calm_reply(dispatcher)
        return [SlotSet("feedback_rating", None), SlotSet("feedback_comment", None)]
