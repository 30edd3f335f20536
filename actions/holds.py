"""Placing a hold, end to end: the title, its format, sign-in, the pickup branch, the hold.

``place_hold`` (typed, or a search result's "Reserve" button) runs:

1. ``action_start_hold`` finds the work (the button's record, or a search for the
   title), the formats the library has it in, and the format if it is already clear
   (only one, or named: "reserve the audiobook of ...");
2. ``hold_format_form`` asks "book or audiobook?" when it is not. The answer is read
   whatever its intent, so "not the ebook" is a choice (the other format), not a ``deny``;
3. ``identify_form`` signs the reader in (card and PIN, also in one message);
4. ``action_resume_account_request`` places the hold, or sets ``pickup_needed`` so a
   rule starts ``pickup_form`` ("which branch?", the reader's home branch first) for a
   printed format;
5. the confirmation gives the queue position.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._common import (
    ClearSlotsAction,
    Dispatcher,
    Events,
    Named,
    entity_values,
    is_verified,
    system_down,
)
from actions.catalog import hold_buttons, requested_titles, search_query
from actions.identity import ActionStartAccountRequest
from library.ils import (
    HoldRefused,
    LibrarySystem,
    LibrarySystemError,
    SearchResult,
    get_library_system,
)
from library.profile import ProfileError, load_profile
from nlu_components.entity_patterns import (
    EXCLUDED,
    FORMAT_IDS,
    find_branches,
    find_formats,
)

logger = logging.getLogger(__name__)

FORMAT_NAMES = {
    "book": "book",
    "large_print": "large print",
    "ebook": "ebook",
    "audiobook": "audiobook",
    "dvd": "DVD",
}
DIGITAL_FORMATS = frozenset({"ebook", "audiobook"})
HOLD_SLOTS = (
    "hold_record",
    "hold_title",
    "hold_formats",
    "hold_format",
    "pickup_branch",
    "pickup_needed",
)


def format_list(formats: list[str]) -> str:
    """ "book, large print or audiobook"."""
    names = [FORMAT_NAMES.get(f, f) for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def editions(results: list[SearchResult], record_id: str | None, query: str) -> list[SearchResult]:
    """The records of one work: the chosen record's, or the best match's, in every format."""
    if not results:
        return []
    chosen = next((r for r in results if r.record_id == record_id), None) if record_id else None
    if record_id and chosen is None:
        return []  # never swap the record the reader chose for another one
    if chosen is None:
        wanted = _norm(query)
        exact = [
            r for r in results if _norm(r.title) == wanted or _norm(r.title) == f"the {wanted}"
        ]
        chosen = exact[0] if exact else results[0]
        distinct = {(r.title, r.author) for r in results if r.score >= results[0].score * 0.8}
        if not exact and not record_id and len(distinct) > 1:
            return []
    return [r for r in results if (r.title, r.author) == (chosen.title, chosen.author)]


def choose_format(
    text: str, entities: list[dict[str, Any]], available: list[str]
) -> tuple[str | None, list[str]]:
    """Read a format choice: ``(format, formats still possible)``.

    "the audiobook" picks it; "not the ebook" rules it out, and when one format is
    left that is the choice. Formats come from NLU's ``book_format`` entities and the
    text itself, so a plain "book" or "print" counts here.
    """
    wanted: list[str] = []
    excluded: list[str] = []
    for entity in entities:
        if entity.get("entity") == "book_format" and entity.get("value") in FORMAT_IDS:
            target = excluded if entity.get("role") == EXCLUDED else wanted
            target.append(str(entity["value"]))
    for found in find_formats(text, answer=True):
        (excluded if found.role == EXCLUDED else wanted).append(found.value)
    wanted = [f for f in wanted if f not in excluded]
    for fmt in wanted:
        if fmt in available:
            return fmt, available
    remaining = [f for f in available if f not in excluded]
    if excluded and len(remaining) == 1:
        return remaining[0], remaining
    return None, remaining


class ActionStartHold(Named, Action, name="action_start_hold"):
    """Remember the hold request and find the work and its formats."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Set the hold slots; ask which record when the title is unclear."""
        events = await ActionStartAccountRequest().run(dispatcher, tracker, domain)
        message = tracker.latest_message
        text = str(message.get("text") or "")
        record_ids = entity_values(message, "record_id")
        titles = requested_titles(message)
        # A button payload's words are not a title; only its book_query entity is.
        query = " ".join(titles) if text.startswith("/") else search_query(text, titles)
        clear = [SlotSet(slot, None) for slot in HOLD_SLOTS]
        if not query and not record_ids:
            dispatcher.utter_message(
                text="Which book would you like to reserve? Tell me its title or author."
            )
            return [
                *events,
                *clear,
                SlotSet("pending_request", None),
                FollowupAction("action_listen"),
            ]
        try:
            results = await get_library_system().search(query, limit=8) if query else []
        except LibrarySystemError:
            system_down(dispatcher)
            return [
                *events,
                *clear,
                SlotSet("pending_request", None),
                FollowupAction("action_listen"),
            ]
        work = editions(results, record_ids[0] if record_ids else None, query)
        if not work and record_ids:
            # A button without a title (an older message): hold that record as it is.
            fmt = next(iter(entity_values(message, "book_format")), "book")
            return [
                *events,
                SlotSet("hold_record", record_ids[0]),
                SlotSet("hold_title", None),
                SlotSet("hold_formats", [fmt]),
                SlotSet("hold_format", fmt),
                SlotSet("pickup_branch", next(iter(entity_values(message, "branch")), None)),
            ]
        if not work:
            if results:
                dispatcher.utter_message(
                    text="Which one should I reserve?", buttons=hold_buttons(results[:3])
                )
            else:
                dispatcher.utter_message(
                    text=f"I couldn't find “{query}” in the catalogue. Check the spelling, "
                    "or try the author's name."
                )
            return [
                *events,
                *clear,
                SlotSet("pending_request", None),
                FollowupAction("action_listen"),
            ]
        formats = [r.format for r in work]
        record = next((r for r in work if r.record_id in record_ids), work[0])
        chosen, _ = choose_format(text, list(message.get("entities") or []), formats)
        if chosen is None and len(formats) == 1:
            chosen = formats[0]
        branch = next(iter(entity_values(message, "branch")), None)
        return [
            *events,
            SlotSet("hold_record", record.record_id),
            SlotSet("hold_title", record.title),
            SlotSet("hold_formats", formats),
            SlotSet("hold_format", chosen),
            SlotSet("pickup_branch", branch),
        ]


class ActionAskHoldFormat(Named, Action, name="action_ask_hold_format"):
    """Ask which of the title's formats the reader wants."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """One button per format still possible."""
        formats = list(tracker.get_slot("hold_formats") or [])
        title = tracker.get_slot("hold_title") or "This title"
        dispatcher.utter_message(
            text=f"“{title}” comes as {format_list(formats)}. Which would you like?",
            buttons=[
                {"title": FORMAT_NAMES.get(f, f).capitalize(), "payload": FORMAT_NAMES.get(f, f)}
                for f in formats
            ],
        )
        return []


class ValidateHoldFormatForm(Named, FormValidationAction, name="validate_hold_format_form"):
    """Reads the format choice, including "not the ebook"."""

    async def extract_hold_format(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A named format, or the only one left after a "not the ...".

        Ruling out one of three formats narrows the question instead of ending it.
        """
        if tracker.get_slot("requested_slot") != "hold_format":
            return {}
        available = list(tracker.get_slot("hold_formats") or [])
        message = tracker.latest_message
        chosen, remaining = choose_format(
            str(message.get("text") or ""), list(message.get("entities") or []), available
        )
        if chosen:
            return {"hold_format": chosen}
        if remaining and len(remaining) < len(available):
            return {"hold_format": None, "hold_formats": remaining}
        wanted = [f.value for f in find_formats(str(message.get("text") or ""), answer=True)]
        if wanted:
            title = tracker.get_slot("hold_title") or "this title"
            dispatcher.utter_message(
                text=f"Sorry, we don't have “{title}” as {FORMAT_NAMES.get(wanted[0], wanted[0])}."
            )
            return {"hold_format": None}
        return {}


def branch_aliases() -> dict[str, str]:
    """Branch names and aliases from the library profile -> branch id (hold pickups only)."""
    try:
        profile = load_profile()
    except ProfileError:
        logger.exception("cannot load the library profile")
        return {b: b for b in ("central", "northside", "riverside")}
    aliases: dict[str, str] = {}
    for branch_id in profile.branch_ids:
        branch = profile.branch(branch_id)
        for name in (branch_id, branch.name, branch.short_name, *branch.aliases):
            aliases[" ".join(str(name).lower().split())] = branch_id
    return aliases


def branch_name(branch_id: str) -> str:
    """The branch's short name ("Northside"), or the id when the profile is unreadable."""
    try:
        return load_profile().branch(branch_id).short_name
    except (ProfileError, KeyError):
        return branch_id.title()


class ActionAskPickupBranch(Named, Action, name="action_ask_pickup_branch"):
    """Ask where to collect the hold, the reader's home branch first."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """One button per branch."""
        home = tracker.get_slot("home_branch")
        ids = sorted(set(branch_aliases().values()), key=lambda b: (b != home, b))
        text = "Which branch would you like to collect it from?"
        if home in ids:
            text += f" Your home branch is {branch_name(str(home))}."
        dispatcher.utter_message(
            text=text, buttons=[{"title": branch_name(b), "payload": branch_name(b)} for b in ids]
        )
        return []


class ValidatePickupForm(Named, FormValidationAction, name="validate_pickup_form"):
    """Reads the pickup branch from the ``branch`` entity or the branch's name or alias."""

    async def extract_pickup_branch(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A branch named in the answer; "my home branch" means the reader's own."""
        if tracker.get_slot("requested_slot") != "pickup_branch":
            return {}
        aliases = branch_aliases()
        text = str(tracker.latest_message.get("text") or "")
        named = [
            b for b in entity_values(tracker.latest_message, "branch") if b in aliases.values()
        ]
        named += [f.value for f in find_branches(text, aliases)]
        if named:
            return {"pickup_branch": named[0]}
        home = tracker.get_slot("home_branch")
        if home and re.search(r"\b(home|usual|my|local|nearest)\b", text, re.IGNORECASE):
            return {"pickup_branch": str(home)}
        return {}


async def place(
    dispatcher: Dispatcher, system: LibrarySystem, patron_id: str, hold: dict[str, Any]
) -> Events:
    """Place the hold described by ``hold`` (the hold slots), or start the branch question.

    Args:
        dispatcher: Where the reply goes.
        system: The library system.
        patron_id: The signed-in reader.
        hold: ``hold_record``, ``hold_format``, ``pickup_branch`` (and ``hold_title``).

    Returns:
        The events: the hold slots cleared, or ``pickup_needed`` set (which starts
        ``pickup_form``).
    """
    fmt = str(hold.get("hold_format") or "book")
    branch = hold.get("pickup_branch")
    if fmt in DIGITAL_FORMATS:
        branch = "online"
    elif not branch:
        # A rule (bot/data/rules/holds.yml) starts pickup_form on this slot.
        return [SlotSet("pickup_needed", True)]
    clear = [SlotSet(slot, None) for slot in HOLD_SLOTS]
    try:
        placed = await system.place_hold(
            patron_id, str(hold["hold_record"]), format=fmt, pickup_branch=str(branch)
        )
    except HoldRefused as refusal:
        dispatcher.utter_message(text=f"I couldn't place that hold: {refusal}")
        return clear
    result = placed.hold
    where = (
        "it will be lent to you online"
        if result.pickup_branch == "online"
        else f"to collect at {branch_name(result.pickup_branch)}"
    )
    ahead = (
        "You're first in the queue"
        if result.queue_position == 1
        else f"You are number {result.queue_position} in the queue"
    )
    name = FORMAT_NAMES.get(result.format, result.format)
    dispatcher.utter_message(
        text=f"Done: “{result.title}” ({name}) is reserved for you, {where}. "
        f"{ahead}; we'll tell you when it's ready."
    )
    return clear


class ActionPlaceHold(Named, Action, name="action_place_hold"):
    """Place the hold once the pickup branch is chosen."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Place it for the signed-in reader; explain when the system is down."""
        patron_id = tracker.get_slot("patron_id")
        if not patron_id or not is_verified(tracker) or not tracker.get_slot("hold_record"):
            dispatcher.utter_message(
                text="Sorry, I lost track of that hold. Please ask me to reserve it again."
            )
            return [SlotSet(slot, None) for slot in HOLD_SLOTS]
        hold = {slot: tracker.get_slot(slot) for slot in HOLD_SLOTS}
        try:
            return await place(dispatcher, get_library_system(), str(patron_id), hold)
        except LibrarySystemError:
            logger.exception("could not place a hold")
            system_down(dispatcher)
            return [SlotSet(slot, None) for slot in HOLD_SLOTS]


class ActionForgetHold(ClearSlotsAction, name="action_forget_hold"):
    """The reader stopped a hold half-way: say so and clear the hold slots."""

    reply = (
        "No problem, I haven't reserved anything. Ask me anything else, or search for another book."
    )
    slots = (*HOLD_SLOTS, "pending_request", "requested_slot")
