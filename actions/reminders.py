"""Reader care in the chat: reminder consent, reminders from the worker, follow-ups.

- ``subscribe_reminders`` runs like an account request (sign in first); the handler
  :func:`subscribe_reminders` then records consent for the signed-in reader.
- ``stop_reminders`` ("stop", or the button under every reminder) withdraws consent
  for the reader behind this conversation; it needs no sign-in.
- ``EXTERNAL_due_reminder`` / ``EXTERNAL_hold_ready`` (from ``worker/jobs/reader_care``)
  carry their text in the ``outreach_text`` entity; :class:`ActionDeliverReminder`
  shows it with a "Stop reminders" button.
- ``EXTERNAL_follow_up`` (from ``worker/jobs/follow_ups``) asks whether things were
  sorted; the yes/no answer is stored for the librarian.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions._common import (
    LIBRARIAN_BUTTON,
    Dispatcher,
    Events,
    Named,
    entity_values,
    store_sessions,
)
from library.ils import LibrarySystem
from messaging.outreach_store import (
    reader_id_for_sender,
    record_follow_up_answer,
    set_preferences,
)

logger = logging.getLogger(__name__)

STOP_BUTTON = {"title": "Stop reminders", "payload": "/stop_reminders"}
STORE_DOWN = (
    "Sorry, I couldn't save that just now. Please try again in a few minutes, "
    "or ask a librarian to change it for you."
)


async def subscribe_reminders(
    dispatcher: Dispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> Events:
    """Record the signed-in reader's consent to due-date reminders and hold notices."""
    sender_id = str(request.get("sender_id") or "")
    try:
        with store_sessions().begin() as session:
            reader_id = reader_id_for_sender(session, sender_id)
            if reader_id is None:
                dispatcher.utter_message(text=STORE_DOWN, buttons=[LIBRARIAN_BUTTON])
                return []
            preference = set_preferences(
                session,
                reader_id,
                due_date_reminders=True,
                hold_ready_notices=True,
                library_patron_id=patron_id,
                source="bot",
            )
            days = int(preference.reminder_days)
    except SQLAlchemyError:
        logger.exception("could not store reminder consent")
        dispatcher.utter_message(text=STORE_DOWN, buttons=[LIBRARIAN_BUTTON])
        return []
    dispatcher.utter_message(
        text=f"Done! I'll remind you {days} days before your loans are due and tell you "
        'when a hold is ready to collect. Reply "stop" at any time to turn this off.',
    )
    return []


class ActionStopReminders(Named, Action, name="action_stop_reminders"):
    """Withdraw consent to reminders for the reader behind this conversation."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Turn every reminder off; says so even when there was nothing to turn off."""
        try:
            with store_sessions().begin() as session:
                reader_id = reader_id_for_sender(session, tracker.sender_id)
                if reader_id is not None:
                    set_preferences(
                        session,
                        reader_id,
                        due_date_reminders=False,
                        hold_ready_notices=False,
                        source="bot_stop",
                    )
        except SQLAlchemyError:
            logger.exception("could not withdraw reminder consent")
            dispatcher.utter_message(text=STORE_DOWN, buttons=[LIBRARIAN_BUTTON])
            return []
        dispatcher.utter_message(
            text="OK, no more reminders. You can ask me to remind you again at any time."
        )
        return []


class ActionDeliverReminder(Named, Action, name="action_deliver_reminder"):
    """Show a reminder the worker computed, with a button to stop reminders."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Utter the ``outreach_text`` entity of the triggering external intent."""
        texts = entity_values(tracker.latest_message, "outreach_text")
        if not texts:
            logger.warning("a reminder arrived without its text; nothing shown")
            return []
        dispatcher.utter_message(text=texts[0], buttons=[STOP_BUTTON])
        return []


class ActionAskFollowUp(Named, Action, name="action_ask_follow_up"):
    """Ask whether the librarian's help sorted things out, with yes/no buttons."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Ask, and remember which follow-up the answer belongs to."""
        ids = entity_values(tracker.latest_message, "follow_up_id")
        dispatcher.utter_message(
            text="Hello again from the library! A librarian helped you recently and asked "
            "me to check in. Did that sort things out?",
            buttons=[
                {"title": "Yes, all sorted", "payload": "/affirm"},
                {"title": "No, not yet", "payload": "/deny"},
            ],
        )
        return [SlotSet("follow_up_id", ids[0] if ids else "latest")]


class ActionSaveFollowUpAnswer(Named, Action, name="action_save_follow_up_answer"):
    """Store the reader's yes/no for the librarian and reply accordingly."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Save the answer; a "no" offers a librarian straight away."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = "yes" if intent == "affirm" else "no"
        raw = tracker.get_slot("follow_up_id")
        follow_up_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
        text = str(tracker.latest_message.get("text") or "") or None
        try:
            with store_sessions().begin() as session:
                record_follow_up_answer(
                    session,
                    follow_up_id=follow_up_id,
                    sender_id=tracker.sender_id,
                    answer=answer,
                    text=text,
                )
        except SQLAlchemyError:
            logger.exception("could not store a follow-up answer")
        if answer == "yes":
            dispatcher.utter_message(text="Wonderful, thanks for letting us know!")
        else:
            dispatcher.utter_message(
                text="I'm sorry to hear that. I've let the librarian know. "
                "Would you like to talk to a librarian now?",
                buttons=[LIBRARIAN_BUTTON],
            )
        return [SlotSet("follow_up_id", None)]
