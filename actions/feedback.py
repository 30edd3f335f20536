"""Feedback: a 1 to 5 rating by buttons, an optional comment, stored in the reader store."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions._common import (
    LIBRARIAN_BUTTON,
    Dispatcher,
    Events,
    Named,
    channel_of,
    entity_values,
    store_sessions,
    typed_text,
)
from actions.abuse import calm_reply, is_abusive
from crm_store.repositories import record_feedback
from messaging.outreach_store import link_survey_answer

logger = logging.getLogger(__name__)

NO_COMMENT = "(none)"
_SKIP = {"skip", "no", "nope", "no thanks", "nothing", "none", "n/a", "no comment", "that's all"}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def parse_rating(text: str) -> int | None:
    """A 1 to 5 rating from "4", "4/5", "four stars" and the like; None otherwise."""
    lowered = text.lower()
    match = re.search(r"(?<!\d)([1-5])(?:\s*/\s*5|\s*stars?|\s*out of 5)?(?!\d)", lowered)
    if match:
        return int(match.group(1))
    for word, value in _WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            return value
    return None


class ValidateFeedbackForm(Named, FormValidationAction, name="validate_feedback_form"):
    """Reads the rating (a button or typed) and the optional comment."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing to ask when the message that started the form is abuse.

        A rude message mistaken for feedback must never get a rating prompt: the form
        ends at once and ``action_save_feedback`` answers calmly instead.
        """
        text = str(tracker.latest_message.get("text") or "")
        if tracker.get_slot("requested_slot") is None and is_abusive(text):
            return []
        return domain_slots

    async def extract_feedback_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """From the button's entity, or a number typed while the rating is asked for."""
        values = entity_values(tracker.latest_message, "feedback_rating")
        if values:
            return {"feedback_rating": values[0]}
        if tracker.get_slot("requested_slot") == "feedback_rating":
            rating = parse_rating(tracker.latest_message.get("text") or "")
            if rating is not None:
                return {"feedback_rating": str(rating)}
        return {}

    def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept 1 to 5."""
        rating = parse_rating(str(value))
        if rating is None:
            dispatcher.utter_message(text="Please choose a number from 1 (poor) to 5 (excellent).")
        return {"feedback_rating": str(rating) if rating else None}

    async def extract_feedback_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Whatever the reader types next; "skip" or "no" means no comment."""
        if tracker.get_slot("requested_slot") != "feedback_comment":
            return {}
        text = typed_text(tracker).strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny" or text.lower().strip(" .!") in _SKIP or text == "/deny":
            return {"feedback_comment": NO_COMMENT}
        return {"feedback_comment": text} if text else {}


class ActionSaveFeedback(Named, Action, name="action_save_feedback"):
    """Store the rating and comment; a low rating gets an apology and a librarian."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Save, thank the reader, and reset the form's slots."""
        rating = parse_rating(str(tracker.get_slot("feedback_rating") or ""))
        comment = tracker.get_slot("feedback_comment")
        clear = [SlotSet("feedback_rating", None), SlotSet("feedback_comment", None)]
        if rating is None:
            if is_abusive(str(tracker.latest_message.get("text") or "")):
                calm_reply(dispatcher)
            return clear
        try:
            with store_sessions().begin() as session:
                feedback = record_feedback(
                    session,
                    rating=rating,
                    sender_id=tracker.sender_id,
                    channel=channel_of(tracker),
                    comment=None if comment in (None, NO_COMMENT) else str(comment),
                )
                # An answer to a satisfaction survey is filed under the surveyed conversation.
                link_survey_answer(session, tracker.sender_id, feedback)
        except SQLAlchemyError:
            logger.exception("could not store feedback")
        if rating <= 2:
            dispatcher.utter_message(
                text="I'm sorry we let you down. Thank you for telling us. "
                "Would you like a librarian to help put it right?",
                buttons=[LIBRARIAN_BUTTON, {"title": "No thanks", "payload": "/deny"}],
            )
        else:
            dispatcher.utter_message(text="Thank you for your feedback! It helps us improve.")
        return clear
