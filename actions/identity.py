"""Identification: card number and PIN, checked with the library system.

The PIN is read from the live turn only: it never goes into a slot, a log line or a
reply, and the tracker store masks it before saving (``crm_store.redaction``). Five
wrong PINs lock the card (the library system enforces it).

The card number is kept for the next turn in the ``card_number`` slot, sealed
(``crm_store.card_seal``): the slot never holds it in clear. A sealed card that no
longer opens (the key changed) counts as no card, and the form asks for it again.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions._common import (
    LIBRARIAN_BUTTON,
    ClearSlotsAction,
    Dispatcher,
    Events,
    Named,
    card_from_slot,
    channel_of,
    is_verified,
    seal_card_slot,
    store_sessions,
    system_down,
)
from crm_store.redaction import CARD_DIGITS, PIN_WORD, card_spans, mask_pins, sealed_card_mask
from crm_store.repositories import link_verified_reader
from library.ils import (
    AuthenticationFailed,
    CardLocked,
    LibrarySystemUnavailable,
    UnknownCard,
    get_library_system,
)

logger = logging.getLogger(__name__)

_PIN_AFTER_WORD = re.compile(PIN_WORD.pattern + r"\D{0,12}?(\d{3,8})(?!\d)", re.IGNORECASE)
_DIGITS_ONLY = re.compile(r"^\D{0,20}?(\d{3,8})\D{0,20}$")

ACCOUNT_INTENTS = ("check_loans", "renew_loans", "place_hold", "hold_status", "check_fines")
CARD_AGAIN = "Sorry, I no longer have your card number. Please type it again."


def find_card_number(text: str) -> str | None:
    """A 14-digit card number in ``text`` (spaces and dashes allowed), or None."""
    spans = card_spans(text)
    return spans[0][2] if spans else None


def find_pin(text: str, pin_requested: bool) -> str | None:
    """The PIN in ``text``: digits after the word "pin", or a bare number when asked for it."""
    without_cards = text
    for start, end, _ in reversed(card_spans(text)):
        without_cards = without_cards[:start] + " " + without_cards[end:]
    match = _PIN_AFTER_WORD.search(without_cards)
    if match:
        return match.group(1)
    if pin_requested:
        bare = _DIGITS_ONLY.match(without_cards.strip())
        if bare:
            return bare.group(1)
    return None


class ValidateIdentifyForm(Named, FormValidationAction, name="validate_identify_form"):
    """Extracts and checks the card number and PIN of ``identify_form``."""

    async def extract_card_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take a card number from any message while the form runs."""
        card = find_card_number(tracker.latest_message.get("text") or "")
        if card:
            return {"card_number": card}
        if tracker.get_slot("requested_slot") == "card_number":
            text = tracker.latest_message.get("text") or ""
            digits = re.sub(r"\D", "", text)
            if digits and len(digits) >= 6:
                return {"card_number": digits}  # wrong length: validation explains
        return {}

    def validate_card_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept exactly 14 digits, and keep them sealed (the slot never holds them in clear).

        The form may validate the slot again in the same turn, with the sealed value.
        """
        card = card_from_slot(value)
        if card is not None:
            return {"card_number": seal_card_slot(card)}
        if sealed_card_mask(value) is not None:
            return {"card_number": None}  # sealed under another key: the form asks again
        digits = re.sub(r"\D", "", str(value or ""))
        if len(digits) != CARD_DIGITS:
            dispatcher.utter_message(
                text=f"That doesn't look like a library card number: it has {len(digits)} "
                f"digits, and card numbers have {CARD_DIGITS}. You'll find it under the barcode "
                "on the back of your card."
            )
            return {"card_number": None}
        return {"card_number": seal_card_slot(digits)}

    async def extract_pin_check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the PIN from the live message; it only ever lives in this turn's memory."""
        requested = tracker.get_slot("requested_slot") == "pin_check"
        pin = find_pin(tracker.latest_message.get("text") or "", requested)
        return {"pin_check": pin} if pin else {}

    async def validate_pin_check(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Check the card and PIN with the library system; the PIN is then forgotten."""
        if value == "verified":
            return {"pin_check": "verified"}
        kept = tracker.get_slot("card_number")
        card = card_from_slot(kept)
        pin = str(value or "")
        if card is None:
            if kept is None:
                return {"pin_check": None}  # ask for the card first; the PIN is dropped
            # A card sealed under a key since changed: ask for it again, then the PIN.
            dispatcher.utter_message(text=CARD_AGAIN)
            return {"pin_check": None, "card_number": None}
        if not 4 <= len(pin) <= 8:
            dispatcher.utter_message(text="Your PIN should be 4 digits. Please try again.")
            return {"pin_check": None}
        try:
            patron = await get_library_system().authenticate(card, pin)
        except AuthenticationFailed as error:
            left = error.attempts_left
            dispatcher.utter_message(
                text=f"That PIN doesn't match this card. You have {left} "
                f"{'try' if left == 1 else 'tries'} left before the card is locked."
            )
            return {"pin_check": None}
        except UnknownCard:
            dispatcher.utter_message(
                text="I can't find a library card with that number. "
                "Please check it and type it again."
            )
            return {"pin_check": None, "card_number": None}
        except CardLocked:
            dispatcher.utter_message(
                text="This card is locked after too many wrong PINs. A librarian can unlock it "
                "for you, or you can reset your PIN at any desk.",
                buttons=[LIBRARIAN_BUTTON],
            )
            return {"pin_check": "locked"}
        except LibrarySystemUnavailable:
            system_down(dispatcher)
            return {"pin_check": "unavailable"}
        self._link(tracker, patron.card_number, patron.name, patron.email)
        dispatcher.utter_message(text=f"Thanks, {patron.first_name}, you're signed in.")
        return {
            "pin_check": "verified",
            "patron_id": patron.patron_id,
            "reader_name": patron.first_name,
            "home_branch": patron.home_branch,
            "verified_at": time.time(),
        }

    @staticmethod
    def _link(tracker: Tracker, card: str, name: str, email: str) -> None:
        try:
            with store_sessions().begin() as session:
                link_verified_reader(
                    session,
                    channel=channel_of(tracker),
                    external_id=tracker.sender_id,
                    card_number=card,
                    name=name,
                    email=email,
                )
        except SQLAlchemyError:
            # The reader is verified either way; linking is retried at the next sign-in.
            logger.exception("could not link a verified identity in the reader store")


class ActionStartAccountRequest(Named, Action, name="action_start_account_request"):
    """Remember what the reader asked for, and ask them to sign in again if it is stale."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Store the pending request; reset verification if it has expired."""
        message = tracker.latest_message
        text = str(message.get("text") or "")
        request = {
            "intent": (message.get("intent") or {}).get("name"),
            # A slot is saved with the tracker: a PIN typed with the request must not be.
            "text": mask_pins(text, pin_requested=False),
            "entities": [
                {"entity": e.get("entity"), "value": e.get("value")}
                for e in message.get("entities") or []
            ],
        }
        events: list[EventType] = [SlotSet("pending_request", request)]
        if not is_verified(tracker):
            events += [
                SlotSet("pin_check", None),
                SlotSet("verified_at", None),
                SlotSet("patron_id", None),
            ]
            kept = tracker.get_slot("card_number")
            if kept is not None and card_from_slot(kept) is None:
                # Sealed under a key since changed: the form asks for the card again.
                events.append(SlotSet("card_number", None))
            # A card given in the same message is kept; the form then asks only for the PIN.
            elif not find_card_number(text) and kept is not None:
                dispatcher.utter_message(
                    text="For your security, please confirm your PIN again to continue."
                )
        return events


class ActionForgetIdentity(ClearSlotsAction, name="action_forget_identity"):
    """Sign the reader out (used when they cancel identification).

    Clears every identification slot and the pending request.
    """

    reply = 'No problem, I\'ve stopped. Ask me anything else, or say "talk to a librarian".'
    slots = (
        "card_number",
        "pin_check",
        "patron_id",
        "reader_name",
        "verified_at",
        "pending_request",
    )
