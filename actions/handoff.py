"""Handing a conversation to a librarian, or leaving them a message when none is on duty."""

from __future__ import annotations

import logging
import os
import re
from datetime import date, datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import hours
from actions._common import channel_of, store_sessions
from actions.library_profile import LibraryProfile, load_profile
from crm_store.repositories import create_ticket, open_handoff

logger = logging.getLogger(__name__)

LEAVE_MESSAGE_BUTTONS = [
    {"title": "Leave a message", "payload": "/leave_message"},
    {"title": "No thanks", "payload": "/deny"},
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _chat_closed(profile: LibraryProfile, day: date) -> bool:
    # The chat is staffed from Central; a full closure there closes the chat too.
    return any(c.type == "closed" for c in profile.closures_on(day, "central"))


def staffed_now(profile: LibraryProfile, now: datetime) -> bool:
    """Whether librarians staff the chat at ``now`` (library local time).

    ``RIC_CHAT_ALWAYS_STAFFED=1`` says yes at any hour (for tests and demos).
    """
    if os.environ.get("RIC_CHAT_ALWAYS_STAFFED") == "1":
        return True
    local = now.astimezone(profile.tz)
    slot = profile.chat_hours[local.weekday()]
    if slot is None or _chat_closed(profile, local.date()):
        return False
    return slot.open <= local.time() < slot.close


def next_staffed(profile: LibraryProfile, now: datetime) -> str:
    """When the chat is next staffed, as a phrase ("today at 9:00", "Monday at 9:00")."""
    local = now.astimezone(profile.tz)
    for offset in range(0, 15):
        day = local.date() + timedelta(days=offset)
        slot = profile.chat_hours[day.weekday()]
        if slot is None or _chat_closed(profile, day):
            continue
        if offset == 0 and local.time() >= slot.open:
            continue
        label = (
            "today"
            if offset == 0
            else "tomorrow"
            if offset == 1
            else _WEEKDAYS[day.weekday()].title()
        )
        return f"{label} at {slot.open.hour}:{slot.open.minute:02d}"
    return "soon"


def handoff_reason(tracker: Tracker) -> str:
    """Why the bot is handing over, in a few words for the librarian's queue."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    reasons = {
        "request_human": "reader asked for a librarian",
        "nlu_fallback": "the bot did not understand",
        "non_english": "message not in English",
        "give_feedback": "low satisfaction rating",
    }
    return reasons.get(str(intent), f"escalated after {intent}")


class ActionHandoff(Action):
    """Queue the conversation for a librarian and pause the bot, or offer to take a message."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Pause with a queue position when staffed; otherwise offer "leave a message"."""
        profile = load_profile()
        now = hours.clock(profile.tz)
        if not staffed_now(profile, now):
            dispatcher.utter_message(
                text="Our librarians aren't in the chat right now; they're back "
                f"{next_staffed(profile, now)}. Would you like to leave a message? "
                "We'll reply here or by email.",
                buttons=LEAVE_MESSAGE_BUTTONS,
            )
            return []
        try:
            with store_sessions().begin() as session:
                _, position = open_handoff(
                    session,
                    sender_id=tracker.sender_id,
                    channel=channel_of(tracker),
                    reason=handoff_reason(tracker),
                )
        except SQLAlchemyError:
            logger.exception("could not queue a handoff")
            dispatcher.utter_message(
                text="Sorry, I couldn't reach the librarians' queue just now. "
                "You can leave a message and we'll get back to you.",
                buttons=LEAVE_MESSAGE_BUTTONS,
            )
            return []
        ahead = "You're next." if position == 1 else f"You're number {position} in the queue."
        dispatcher.utter_message(
            text=f"I've asked a librarian to join this chat. {ahead} You can keep typing: "
            "they'll see everything you write here."
        )
        return [ConversationPaused()]


class ValidateLeaveMessageForm(FormValidationAction):
    """Collects the message and how to reach the reader."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "validate_leave_message_form"

    def validate_ticket_message(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any non-empty text is the message."""
        text = str(value or "").strip()
        if len(text) < 2:
            dispatcher.utter_message(text="Please type your message for the librarians.")
            return {"ticket_message": None}
        return {"ticket_message": text}

    def validate_ticket_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An email address, or "here" to be answered on this channel."""
        text = str(value or "").strip()
        email = _EMAIL.search(text)
        if email:
            return {"ticket_contact": email.group(0)}
        if text.lower().strip(" .!") in {
            "here",
            "this chat",
            "chat",
            "in this chat",
            "reply here",
            "/reply_here",
        }:
            return {"ticket_contact": f"{channel_of(tracker)}:{tracker.sender_id}"}
        dispatcher.utter_message(
            text="I need an email address (like name@example.org), "
            'or say "here" to get the reply in this chat.'
        )
        return {"ticket_contact": None}


class ActionCreateTicket(Action):
    """Create the ticket from the collected message and contact."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store the ticket and tell the reader what happens next."""
        body = str(tracker.get_slot("ticket_message") or "")
        contact = str(tracker.get_slot("ticket_contact") or "")
        clear = [SlotSet("ticket_message", None), SlotSet("ticket_contact", None)]
        try:
            with store_sessions().begin() as session:
                ticket = create_ticket(
                    session,
                    sender_id=tracker.sender_id,
                    channel=channel_of(tracker),
                    subject=body.splitlines()[0][:80],
                    body=body,
                    contact=contact,
                )
                number = ticket.id
        except SQLAlchemyError:
            logger.exception("could not create a ticket")
            profile = load_profile()
            dispatcher.utter_message(
                text="Sorry, I couldn't save your message. Please email "
                f"{profile.contacts.get('email', 'the library')} and we'll answer there."
            )
            return clear
        where = "here in this chat" if ":" in contact else f"at {contact}"
        dispatcher.utter_message(
            text=f"Thanks, your message is with the library team (ticket #{number}). "
            f"We'll reply {where}."
        )
        return clear
