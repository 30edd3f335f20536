"""Handing a conversation to a librarian, or leaving them a message when none is on duty.

Outside staffed chat hours ``action_handoff`` says when librarians are back and starts
``leave_message_form`` at once, so whatever the reader types next (the problem, in
their own words) becomes the message, whatever its intent; an email address typed
after it is the contact, and the confirmation says when to expect an answer. When the
request itself explains why ("a librarian please, my card was charged twice"), the
explanation is the message (outside hours) or is put on the queued handoff (inside).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import hours
from actions._common import (
    ClearSlotsAction,
    Dispatcher,
    Events,
    Named,
    channel_of,
    store_sessions,
    typed_text,
)
from crm_store.repositories import create_ticket, open_handoff
from library.profile import LibraryProfile, load_profile
from ric_config import ActionsConfig

logger = logging.getLogger(__name__)

LEAVE_MESSAGE_BUTTONS = [
    {"title": "Leave a message", "payload": "/leave_message"},
    {"title": "No thanks", "payload": "/deny"},
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# The words of a request for a person; what is left of the message is the reason.
_ASK_FOR_PERSON = re.compile(
    r"\b(?:(?:can|could|may) i|i(?:'d| would) like to|i want to|i need to|let me|please)?\s*"
    r"(?:talk|speak|chat|get through)\s+(?:to|with)\s+(?:a|an|the|some|someone|somebody)?\s*"
    r"(?:real\s+|actual\s+|human\s+)?(?:person|human|librarian|member of staff|staff|"
    r"someone|somebody|agent)?\b"
    r"|\b(?:i (?:want|need)|can i (?:get|have)|get me|put me through to)\s+(?:a|an|the)?\s*"
    r"(?:real\s+|actual\s+)?(?:person|human|librarian|agent|member of staff)\b"
    r"|\b(?:a\s+)?(?:librarian|human|real person|agent)(?:\s+please|\s+pls)?\b",
    re.IGNORECASE,
)
_REASON_JOIN = re.compile(
    r"^[\s,.;:!?-]*(?:please|pls|now)?[\s,.;:!?-]*(?:(?:it'?s|this is)\s+)?"
    r"(?:about|because|as|since|regarding|re|for|cos|cause|so that|,|-|:)?\s*",
    re.IGNORECASE,
)


def _whole_reply(alternatives: str) -> re.Pattern[str]:
    """A reply that is only one of ``alternatives`` ("a|b"), in any case, maybe with "." or "!"."""
    return re.compile(rf"^(?:{alternatives})[\s.!]*$", re.IGNORECASE)


_DECLINE = _whole_reply(
    r"no|nope|nah|no thanks?|no thank you|not now|never ?mind|nevermind|cancel|"
    r"forget it|don'?t bother|/deny"
)
_TICKET_WORDS = _whole_reply(
    r"yes|yeah|yep|ok|okay|sure|please|yes please|leave a message|/affirm|/leave_message"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _chat_closed(profile: LibraryProfile, day: date) -> bool:
    # The chat is staffed from Central; a full closure there closes the chat too.
    return any(c.type == "closed" for c in profile.closures_on(day, "central"))


def staffed_now(profile: LibraryProfile, now: datetime) -> bool:
    """Whether librarians staff the chat at ``now`` (library local time).

    ``RIC_CHAT_ALWAYS_STAFFED=1`` says yes at any hour (for tests and demos), except
    while the action server's test clock is set (``hours.test_clock_time``): then the
    profile's chat hours decide, at the clock's time.
    """
    if ActionsConfig().chat_always_staffed and hours.test_clock_time() is None:
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


def expected_answer(profile: LibraryProfile, now: datetime) -> str:
    """When a reader who leaves a message now can expect an answer, as a sentence."""
    if staffed_now(profile, now):
        return "A librarian will answer today, usually within a few hours."
    back = next_staffed(profile, now)
    if back == "soon":
        return "A librarian will answer as soon as the chat is staffed again."
    when, _, time_text = back.partition(" at ")
    day = when if when in ("today", "tomorrow") else f"on {when}"
    return f"Librarians are back {back}, so expect an answer {day}, after {time_text}."


def stated_reason(text: str) -> str | None:
    """What a request for a librarian says the problem is, or None if it says nothing more.

    "can I talk to a librarian about a fine I was charged by mistake" gives "a fine I
    was charged by mistake"; "talk to a librarian" gives None.
    """
    match = _ASK_FOR_PERSON.search(text)
    if match is None:
        return None
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    rest = _REASON_JOIN.sub("", rest, count=1).strip(" ,.;:!?-")
    if len(rest.split()) < 3:
        return None
    return rest


def handoff_reason(tracker: Tracker) -> str:
    """Why the bot is handing over, in a few words for the librarian's queue.

    A request that explains itself carries the reader's words, so the librarian sees
    them in the queue: "reader asked for a librarian: my card was charged twice".
    """
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    reasons = {
        "request_human": "reader asked for a librarian",
        "nlu_fallback": "the bot did not understand",
        "non_english": "message not in English",
        "give_feedback": "low satisfaction rating",
        "abuse": "reader is upset",
    }
    reason = reasons.get(str(intent), f"escalated after {intent}")
    if intent == "request_human":
        said = stated_reason(str(tracker.latest_message.get("text") or ""))
        if said:
            reason = f"{reason}: {said}"
    return reason[:200]


class ActionHandoff(Named, Action, name="action_handoff"):
    """Queue the conversation for a librarian and pause the bot, or offer to take a message."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Pause with a queue position when staffed; otherwise offer "leave a message"."""
        profile = load_profile()
        now = hours.clock(profile.tz)
        if not staffed_now(profile, now):
            dispatcher.utter_message(
                text="Our librarians aren't in the chat right now; they're back "
                f"{next_staffed(profile, now)}."
            )
            # The next thing the reader types is the message, whatever it is about.
            said = stated_reason(str(tracker.latest_message.get("text") or ""))
            prefilled = [SlotSet("ticket_message", said)] if said else []
            return [*prefilled, FollowupAction("leave_message_form")]
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


class ValidateLeaveMessageForm(Named, FormValidationAction, name="validate_leave_message_form"):
    """Collects the message and how to reach the reader."""

    async def extract_ticket_message(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Whatever the reader types when asked is the message, whatever its intent.

        "No thanks" (or the button) leaves it unfilled, so the form stops; "yes" or
        "leave a message" asks again for the message itself.
        """
        if tracker.get_slot("requested_slot") != "ticket_message":
            return {}
        text = typed_text(tracker).strip()
        if not text or _DECLINE.match(text):
            return {}
        if _TICKET_WORDS.match(text):
            dispatcher.utter_message(text="Go ahead: type your message and I'll pass it on.")
            return {"ticket_message": None}
        return {"ticket_message": text}

    async def extract_ticket_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An email address in any message of the form, or the answer to "how should we reply?"."""
        message = tracker.latest_message
        emails = [
            str(e.get("value"))
            for e in message.get("entities") or []
            if e.get("entity") == "email" and e.get("value")
        ]
        text = str(message.get("text") or "").strip()
        found = emails[0] if emails else (m.group(0) if (m := _EMAIL.search(text)) else None)
        requested = tracker.get_slot("requested_slot")
        if found and requested in ("ticket_message", "ticket_contact"):
            return {"ticket_contact": found}
        if requested == "ticket_contact" and text:
            if _DECLINE.match(text):
                return {}
            return {"ticket_contact": text}
        return {}

    def validate_ticket_message(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any non-empty text is the message (an unset value is simply asked for)."""
        text = None if value is None else str(value).strip()
        if text is not None and len(text) < 2:
            dispatcher.utter_message(text="Please type your message for the librarians.")
            text = None
        return {"ticket_message": text}

    def validate_ticket_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An email address, or "here" to be answered on this channel."""
        if value is None:
            return {"ticket_contact": None}
        text = str(value).strip()
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


class ActionCreateTicket(Named, Action, name="action_create_ticket"):
    """Create the ticket from the collected message and contact."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
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
        profile = load_profile()
        when = expected_answer(profile, hours.clock(profile.tz))
        dispatcher.utter_message(
            text=f"Thanks, your message is with the library team (ticket #{number}). "
            f"We'll reply {where}. {when}"
        )
        return clear


class ActionStopLeavingMessage(ClearSlotsAction, name="action_stop_leaving_message"):
    """The reader decided not to leave a message after all: say so, forget what was collected."""

    reply = "No problem, I haven't sent anything. Is there anything else I can help with?"
    slots = ("ticket_message", "ticket_contact", "requested_slot")
