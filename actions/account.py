"""Account transactions: loans, renewals, holds, hold status and fines.

Every transaction intent goes ``action_start_account_request`` → ``identify_form`` →
``action_resume_account_request``, which runs the pending request once the reader is
signed in. A library system that is down gets a plain apology and a librarian.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._common import LIBRARIAN_BUTTON, Dispatcher, Events, Named, entity_values, system_down
from actions.holds import HOLD_SLOTS, place
from actions.reminders import subscribe_reminders
from library.ils import (
    LibrarySystem,
    LibrarySystemError,
    LibrarySystemUnavailable,
    Loan,
    NotAuthenticated,
    get_library_system,
)

logger = logging.getLogger(__name__)

Handler = Callable[
    [CollectingDispatcher, LibrarySystem, str, dict[str, Any]], Awaitable[list[EventType]]
]


def _date(value: Any) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def _loan_line(loan: Loan) -> str:
    if loan.overdue:
        state = f"overdue since {_date(loan.due_date)} ({loan.days_overdue} days)"
    else:
        state = f"due {_date(loan.due_date)}"
    return f"• {loan.title} ({loan.format.replace('_', ' ')}): {state}"


async def _loans(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, nothing: str
) -> list[Loan]:
    """The reader's loans, most urgent first; with none, say ``nothing``."""
    loans = sorted(await system.loans(patron_id), key=lambda loan: loan.due_date)
    if not loans:
        dispatcher.utter_message(text=nothing)
    return loans


async def check_loans(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> list[EventType]:
    """List the reader's loans, most urgent first, and offer renewal."""
    loans = await _loans(dispatcher, system, patron_id, "You have nothing on loan at the moment.")
    if loans:
        overdue = sum(1 for loan in loans if loan.overdue)
        head = f"You have {len(loans)} item{'s' if len(loans) != 1 else ''} on loan"
        head += f", {overdue} overdue:" if overdue else ":"
        dispatcher.utter_message(
            text="\n".join([head, *(_loan_line(loan) for loan in loans)]),
            buttons=[{"title": "Renew all", "payload": '/renew_loans{"renew_item": "all"}'}],
        )
    return []


def _pick_loans(loans: list[Loan], request: dict[str, Any]) -> list[Loan] | None:
    """The loans the reader asked to renew, or None when they still have to choose."""
    picked = entity_values(request, "renew_item")
    if "all" in picked or any(
        w in request.get("text", "").lower().split() for w in ("all", "everything")
    ):
        return loans
    if picked:
        return [loan for loan in loans if loan.item_id in picked]
    text = request.get("text", "").lower()
    named = [loan for loan in loans if loan.title.lower() in text]
    if named:
        return named
    return loans if len(loans) == 1 else None


async def renew_loans(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> list[EventType]:
    """Renew all loans or the chosen ones, and report each item's outcome."""
    nothing = "You have nothing on loan, so there is nothing to renew."
    loans = await _loans(dispatcher, system, patron_id, nothing)
    if not loans:
        return []
    chosen = _pick_loans(loans, request)
    if chosen is None:
        buttons = [{"title": "Renew all", "payload": '/renew_loans{"renew_item": "all"}'}]
        buttons += [
            {"title": loan.title[:60], "payload": f'/renew_loans{{"renew_item": "{loan.item_id}"}}'}
            for loan in loans
        ]
        dispatcher.utter_message(
            text="Which would you like to renew?\n" + "\n".join(_loan_line(loan) for loan in loans),
            buttons=buttons,
        )
        return []
    outcomes = await system.renew(patron_id, [loan.item_id for loan in chosen])
    lines = []
    for outcome in outcomes:
        if outcome.renewed and outcome.new_due_date:
            lines.append(f"✓ {outcome.title}: renewed, now due {_date(outcome.new_due_date)}")
        else:
            lines.append(f"✗ {outcome.title or outcome.item_id}: {outcome.message}")
    renewed = sum(1 for outcome in outcomes if outcome.renewed)
    summary = f"I renewed {renewed} of {len(outcomes)}:"
    buttons = [LIBRARIAN_BUTTON] if renewed < len(outcomes) else []
    dispatcher.utter_message(text="\n".join([summary, *lines]), buttons=buttons)
    return []


async def hold_status(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> list[EventType]:
    """Where each of the reader's holds stands."""
    holds = await system.holds(patron_id)
    if not holds:
        dispatcher.utter_message(
            text="You have no holds at the moment. Want me to search the catalogue?"
        )
        return []
    lines = []
    for hold in holds:
        if hold.status == "ready_for_pickup":
            until = f" until {_date(hold.pickup_by)}" if hold.pickup_by else ""
            lines.append(f"• {hold.title}: ready to collect at {hold.pickup_branch.title()}{until}")
        elif hold.status == "in_transit":
            lines.append(f"• {hold.title}: on its way to {hold.pickup_branch.title()}")
        else:
            lines.append(f"• {hold.title}: number {hold.queue_position} in the queue")
    dispatcher.utter_message(text="\n".join(["Your holds:", *lines]))
    return []


async def check_fines(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> list[EventType]:
    """The reader's charges, itemised."""
    fines = await system.fines(patron_id)
    if fines.total <= 0:
        dispatcher.utter_message(text="Good news: you owe nothing.")
        return []
    lines = [f"• {item.description}: £{item.amount:.2f}" for item in fines.items]
    text = "\n".join([f"You owe £{fines.total:.2f}:", *lines])
    if fines.blocks_borrowing:
        text += "\nCharges of £10 or more stop borrowing and renewals until they are paid."
    text += "\nYou can pay at any desk or online in your catalogue account."
    dispatcher.utter_message(text=text)
    return []


async def place_hold(
    dispatcher: CollectingDispatcher, system: LibrarySystem, patron_id: str, request: dict[str, Any]
) -> list[EventType]:
    """Place the hold chosen in the hold flow (``actions.holds``), asking the branch first."""
    if not request.get("hold_record"):
        dispatcher.utter_message(
            text="Which book would you like to reserve? Tell me its title or author."
        )
        return []
    hold = {slot: request.get(slot) for slot in HOLD_SLOTS}
    return await place(dispatcher, system, patron_id, hold)


HANDLERS: dict[str, Handler] = {
    "check_loans": check_loans,
    "renew_loans": renew_loans,
    "hold_status": hold_status,
    "check_fines": check_fines,
    "place_hold": place_hold,
    "subscribe_reminders": subscribe_reminders,
}


async def run_request(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: dict[str, Any]
) -> list[EventType]:
    """Run one account request for the signed-in reader, translating system failures.

    Args:
        dispatcher: Where the replies go.
        tracker: The conversation (slots: ``patron_id``, ``home_branch``, the hold slots).
        request: ``intent``, ``text`` and ``entities`` of what the reader asked.

    Returns:
        The handler's events (plus sign-out slots when the sign-in has expired).
    """
    patron_id = tracker.get_slot("patron_id")
    handler = HANDLERS.get(str(request.get("intent")))
    if handler is None or not patron_id:
        dispatcher.utter_message(
            text="You're signed in. What would you like to do: loans, renewals, holds or fines?"
        )
        return []
    request = {
        **request,
        **{slot: tracker.get_slot(slot) for slot in HOLD_SLOTS},
        "home_branch": tracker.get_slot("home_branch"),
        "sender_id": tracker.sender_id,
    }
    try:
        return await handler(dispatcher, get_library_system(), str(patron_id), request)
    except LibrarySystemUnavailable:
        system_down(dispatcher)
        return []
    except NotAuthenticated:
        dispatcher.utter_message(
            text="Your sign-in has expired. Please ask again and I'll check your card."
        )
        return [SlotSet("pin_check", None), SlotSet("patron_id", None)]
    except LibrarySystemError:
        logger.exception("library system error in %s", request.get("intent"))
        system_down(dispatcher)
        return []


class ActionResumeAccountRequest(Named, Action, name="action_resume_account_request"):
    """Run the request the reader made before signing in."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Dispatch to the transaction, translating library-system failures for the reader."""
        request = tracker.get_slot("pending_request") or {}
        patron_id = tracker.get_slot("patron_id")
        state = tracker.get_slot("pin_check")
        if state != "verified" or not patron_id:
            # The form ended without a sign-in (locked card, system down): already explained.
            return [
                SlotSet("pending_request", None),
                SlotSet("pin_check", None),
                SlotSet("pickup_needed", None),
            ]
        # pickup_needed starts pickup_form (rules/holds.yml): only the hold just asked
        # for may set it, never one abandoned earlier.
        events = await run_request(dispatcher, tracker, request)
        return [SlotSet("pending_request", None), SlotSet("pickup_needed", None), *events]
