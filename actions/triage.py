"""Messages the assistant should not answer as they stand: foreign-language or several requests."""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import hours
from actions._common import (
    LIBRARIAN_BUTTON,
    Dispatcher,
    Events,
    Named,
    is_verified,
    profile_or_apology,
    seal_card_slot,
)
from actions.account import run_request
from actions.identity import ValidateIdentifyForm, find_card_number, find_pin
from crm_store.redaction import mask_pins
from library.profile import load_profile
from nlu_components.language_reply import reply_for_language

logger = logging.getLogger(__name__)


class ActionNonEnglish(Named, Action, name="action_non_english"):
    """Say, in English and in the reader's language, that the service works in English."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Reply bilingually and offer a librarian."""
        language = tracker.latest_message.get("language") or {}
        contact = load_profile().contacts.get("email", "")
        dispatcher.utter_message(
            text=reply_for_language(str(language.get("code") or "und"), contact),
            buttons=[LIBRARIAN_BUTTON],
        )
        return []


class _Topic(NamedTuple):
    intent: str
    label: str  # a button's short label
    words: str  # a regular expression, matched in any case
    to_do: str | None = None  # an account request: "Now, to <to_do> I need to sign you in."


_TOPICS = (
    _Topic("reset_pin", "Reset my PIN", r"\b(?:reset|forgot\w*|change|new)\b.{0,20}\bpin\b"),
    _Topic(
        "renew_loans",
        "Renew my books",
        r"\brenew\w*|\bextend\b|\bkeep (?:them|it|my \w+) longer",
        "renew your books",
    ),
    _Topic(
        "check_fines",
        "My fines",
        r"\bfines?\b|\bowe\b|\bcharges?\b|\bbalance\b",
        "check your fines",
    ),
    _Topic(
        "hold_status",
        "My holds",
        r"\bmy (?:holds?|reservations?)\b|\bholds? (?:ready|status)",
        "check your holds",
    ),
    _Topic(
        "check_loans",
        "My loans",
        r"\bmy loans\b|\bchecked out\b|\bon loan\b|\bdue\b",
        "list your loans",
    ),
    _Topic("library_hours", "Opening hours", r"\bopen\w*|\bclos(?:e|es|ing)\b|\bhours\b"),
    _Topic("faq/parking", "Parking", r"\bpark\w*"),
    _Topic("faq/wifi", "Wifi", r"\bwi-?fi\b|\binternet\b"),
    _Topic("faq/printing", "Printing", r"\bprint\w*"),
    _Topic("faq/food_drink", "Food and drink", r"\b(?:food|eat|drinks?|coffee|snacks?)\b"),
    _Topic("faq/events", "Events", r"\b(?:events?|clubs?|storytimes?|author talks?|workshops?)\b"),
    _Topic("book_room", "Book a room", r"\b(?:study|meeting) room\b|\bbook a room\b"),
    _Topic("library_location", "Addresses", r"\bwhere is\b|\baddress\b|\bdirections\b"),
    _Topic("search_catalog", "Find a book", r"\bdo you have\b|\blooking for\b|\bin stock\b"),
)
_ACCOUNT_PHRASES = {topic.intent: topic.to_do for topic in _TOPICS if topic.to_do}
_ACCOUNT = tuple(_ACCOUNT_PHRASES)
_CREDENTIAL_WORDS = re.compile(
    r"\b(?:my|the|library|card|number|no|is|it'?s|its|pin|code|and|here|here's|ok|so|"
    r"signed|in|for|you|use|please)\b|[\d\s,.:;!-]+",
    re.IGNORECASE,
)


def is_credentials(part: str) -> bool:
    """Whether a request is only a card number and/or PIN ("card 2123..., pin 4821")."""
    if not find_card_number(part) and not find_pin(part, False):
        return False
    return not _CREDENTIAL_WORDS.sub(" ", part).strip()


def topic_of(part: str) -> tuple[str | None, str]:
    """The intent a request is about and a short label for a button, by its words."""
    for topic in _TOPICS:
        if re.search(topic.words, part, re.IGNORECASE):
            return topic.intent, topic.label
    words = part.split()
    return None, " ".join(words[:4]) + ("…" if len(words) > 4 else "")


class ActionHandleMultipleRequests(Named, Action, name="action_handle_multiple_requests"):
    """Act on a message with several requests, and offer the rest with short labels.

    A card number (and PIN) in the message is taken and checked; opening-hours
    questions are answered at once; the first account request (renew, loans, fines,
    holds) is started, or run when the reader is signed in; every other request gets a
    button with a short label ("Parking", "Wifi"), never the reader's paragraph.
    """

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Sign in, answer, start and offer, in that order."""
        text = str(tracker.latest_message.get("text") or "")
        parts = [str(p) for p in tracker.latest_message.get("requests") or [] if str(p).strip()]
        if len(parts) < 2:
            dispatcher.utter_message(
                text="Could you tell me one thing at a time, starting with the most urgent?"
            )
            return []
        events: list[EventType] = await self._sign_in(dispatcher, tracker, text)
        account: tuple[str, str] | None = None
        later: list[tuple[str, str]] = []
        answered = 0
        for part in parts:
            intent, label = topic_of(part)
            if is_credentials(part):
                continue  # the card and PIN themselves, already taken
            if intent == "library_hours":
                answered += await self._hours(dispatcher, part)
            elif intent in _ACCOUNT and account is None:
                account = (str(intent), part)
            else:
                later.append((label, part))
        if later:
            labels = ", ".join(label for label, _ in later)
            lead = "You also asked about" if answered or account else "You asked about"
            tail = "Press it when you're ready." if len(later) == 1 else "Which next?"
            if account is not None and len(later) > 1:
                tail = "Press one when you're ready."
            dispatcher.utter_message(
                text=f"{lead}: {labels}. {tail}",
                buttons=[{"title": label[:40], "payload": part} for label, part in later],
            )
        if account is not None:
            events += await self._start(dispatcher, tracker, *account)
        return events

    @staticmethod
    async def _sign_in(
        dispatcher: CollectingDispatcher, tracker: Tracker, text: str
    ) -> list[EventType]:
        card = find_card_number(text)
        if not card:
            return []
        sealed = seal_card_slot(card)  # the slot never holds the card in clear
        events: list[EventType] = [SlotSet("card_number", sealed)]
        pin = find_pin(text, False)
        if not pin:
            return events
        tracker.slots["card_number"] = sealed
        validator = ValidateIdentifyForm()
        result = await validator.validate_pin_check(pin, dispatcher, tracker, {})
        tracker.slots.update(result)
        return events + [SlotSet(key, value) for key, value in result.items()]

    @staticmethod
    async def _hours(dispatcher: CollectingDispatcher, part: str) -> int:
        profile = profile_or_apology(dispatcher, hours.HOURS_UNAVAILABLE)
        if profile is None:
            return 0
        dispatcher.utter_message(text=hours.hours_answer(profile, part, hours.clock(profile.tz)))
        return 1

    @staticmethod
    async def _start(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        intent: str,
        part: str,
    ) -> list[EventType]:
        request = {"intent": intent, "text": mask_pins(part, pin_requested=False), "entities": []}
        patron_id = tracker.get_slot("patron_id")
        if patron_id and is_verified(tracker):
            return await run_request(dispatcher, tracker, request)
        if tracker.get_slot("pin_check") in ("locked", "unavailable"):
            return []  # already explained
        dispatcher.utter_message(text=f"Now, to {_ACCOUNT_PHRASES[intent]} I need to sign you in.")
        return [SlotSet("pending_request", request), FollowupAction("identify_form")]
