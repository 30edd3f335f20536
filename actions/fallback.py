"""Two-stage fallback: clarify with the top guesses, then offer a librarian.

A reader who sounds frustrated, or who is misunderstood twice in a row, is offered a
librarian at once.
"""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.types import DomainDict

from actions._common import LIBRARIAN_BUTTON, Dispatcher, Events, Named
from actions.abuse import calm_reply, is_abusive

INTENT_LABELS = {
    "library_hours": "Opening hours",
    "library_location": "Addresses and directions",
    "check_loans": "My loans",
    "renew_loans": "Renew my books",
    "place_hold": "Reserve a book",
    "hold_status": "My holds",
    "check_fines": "My fines",
    "search_catalog": "Find a book",
    "get_library_card": "Join the library",
    "reset_pin": "Reset my PIN",
    "book_room": "Book a room",
    "interlibrary_loan": "Interlibrary loan",
    "research_help": "Research help",
    "access_eresources": "Ebooks and online resources",
    "give_feedback": "Give feedback",
    "request_human": "Talk to a librarian",
}
_FRUSTRATION = re.compile(
    r"\b(useless|stupid|dumb|idiot\w*|annoying|frustrat\w*|ridiculous|pointless|hopeless|"
    r"waste of (my )?time|not help(ing|ful)|doesn'?t help|does not help|wtf|ffs|terrible|awful|"
    r"rubbish|garbage|hate (this|you)|you don'?t understand|not what i (asked|said))\b",
    re.IGNORECASE,
)


def sounds_frustrated(text: str) -> bool:
    """Whether a message shows frustration (words, shouting, or a burst of punctuation)."""
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8
    return bool(_FRUSTRATION.search(text)) or shouting or "!!!" in text or "???" in text


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the reader's latest messages in a row the bot did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


def guess_buttons(tracker: Tracker, limit: int = 3) -> list[dict[str, str]]:
    """Buttons for the classifier's best guesses that a reader would recognise."""
    buttons = []
    for guess in tracker.latest_message.get("intent_ranking") or []:
        label = INTENT_LABELS.get(str(guess.get("name")))
        if label and label != LIBRARIAN_BUTTON["title"]:
            buttons.append({"title": label, "payload": f"/{guess['name']}"})
        if len(buttons) == limit:
            break
    return buttons


class ActionClarify(Named, Action, name="action_clarify"):
    """First fallback: offer the top guesses. Second in a row, or frustration: a librarian."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Ask which guess was meant, or offer a librarian."""
        text = tracker.latest_message.get("text") or ""
        leave = {"title": "Leave a message", "payload": "/leave_message"}
        if is_abusive(text):
            calm_reply(dispatcher)
        elif sounds_frustrated(text):
            dispatcher.utter_message(
                text="I'm sorry this is frustrating. A librarian can take over right now.",
                buttons=[LIBRARIAN_BUTTON, leave],
            )
        elif consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(
                text="Sorry, I'm still not getting it. Would you like a librarian to help?",
                buttons=[LIBRARIAN_BUTTON, leave],
            )
        else:
            dispatcher.utter_message(
                text="Sorry, I'm not sure what you mean. Did you mean one of these?",
                buttons=[*guess_buttons(tracker), LIBRARIAN_BUTTON],
            )
        return []
