"""Messages the assistant should not answer as they stand: foreign-language or several requests."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._common import LIBRARIAN_BUTTON
from actions.library_profile import load_profile
from nlu_components.language_guard import reply_for_language


class ActionNonEnglish(Action):
    """Say, in English and in the reader's language, that the service works in English."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_non_english"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Reply bilingually and offer a librarian."""
        language = tracker.latest_message.get("language") or {}
        contact = load_profile().contacts.get("email", "")
        dispatcher.utter_message(
            text=reply_for_language(str(language.get("code") or "und"), contact),
            buttons=[LIBRARIAN_BUTTON],
        )
        return []


class ActionHandleMultipleRequests(Action):
    """List the requests found in one message and let the reader pick the first."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handle_multiple_requests"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One button per request; each sends that request as the reader's next message."""
        parts = [str(p) for p in tracker.latest_message.get("requests") or [] if str(p).strip()]
        if len(parts) < 2:
            dispatcher.utter_message(
                text="Could you tell me one thing at a time, starting with the most urgent?"
            )
            return []
        listing = "\n".join(f"{i}. {part}" for i, part in enumerate(parts, start=1))
        dispatcher.utter_message(
            text=f"You've asked about {len(parts)} things:\n{listing}\n"
            "Let's take them one at a time. Which first?",
            buttons=[{"title": part[:60], "payload": part} for part in parts],
        )
        return []
