"""A reader's library account in the console: loans, holds and charges, renew, place holds.

The library system answers for a patron id; the console finds it from the card number a
verified reader has on file (`LibrarySystem.patron_id_for_card`), never from a PIN. What
a librarian does on the reader's behalf is audited (``reader.renew_on_behalf``,
``reader.hold_on_behalf``); refusals come back with the library system's own reason.

Dates are shown the way the library writes them ("Tue 8 Dec 2026") and relative to the
library system's today ("due in 3 days", "overdue by 2 days").

Errors, besides `handoff_console.services.errors`::

    ApiError
    └── LibraryUnavailable  503 the library system is down or timing out
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import Reader
from crm_store.redaction import mask_card
from handoff_console.schemas import readers as schemas
from handoff_console.services.errors import ApiError, BadRequest, Conflict, NotFound
from library.ils import (
    FineSummary,
    Hold,
    HoldRefused,
    LibrarySystem,
    LibrarySystemError,
    LibrarySystemUnavailable,
    Loan,
    get_library_system,
)
from library.profile import ProfileError, library_today, load_profile

__all__ = [
    "CALL_TIMEOUT_SECONDS",
    "HOLD_ACTION",
    "RENEW_ACTION",
    "LibraryUnavailable",
    "account",
    "account_view",
    "card_on_file",
    "catalogue",
    "day_label",
    "due_relative",
    "hold_view",
    "place_hold",
    "record_hold",
    "record_renewal",
    "renew",
]

T = TypeVar("T")

CALL_TIMEOUT_SECONDS = 8.0
"""How long one call to the library system may take before the panel says it is down."""
RENEW_ACTION = "reader.renew_on_behalf"
HOLD_ACTION = "reader.hold_on_behalf"
_HOLD_STATUS = {
    "waiting": "Waiting in the queue",
    "in_transit": "On its way to the pickup branch",
    "ready_for_pickup": "Ready to collect",
}


class LibraryUnavailable(
    ApiError,
    status=503,
    code="library_system_unavailable",
    message="The library system is unavailable right now; try again in a few minutes.",
):
    """The library system is down, timing out or failing."""


def day_label(day: dt.date) -> str:
    """A day as the library writes it: "Tue 8 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def due_relative(due: dt.date, today: dt.date) -> str:
    """A due date relative to ``today``: "due today", "due in 3 days", "overdue by 2 days"."""
    delta = (due - today).days
    if delta == 0:
        return "due today"
    if delta == 1:
        return "due tomorrow"
    if delta > 0:
        return f"due in {_days(delta)}"
    return f"overdue by {_days(-delta)}"


def _branch_name(branch: str) -> str:
    if branch == "online":
        return "Online (digital loan)"
    try:
        names = {known.id: str(known.name) for known in load_profile().branches}
    except ProfileError:
        names = {}  # the id is still a fair name when the profile cannot be read
    return names.get(branch, branch.capitalize())


def _loan_view(loan: Loan) -> dict[str, Any]:
    return {
        "item_id": loan.item_id,
        "record_id": loan.record_id,
        "title": loan.title,
        "author": loan.author,
        "format": loan.format,
        "due_date": loan.due_date,
        "due_label": day_label(loan.due_date),
        "due_relative": due_relative(loan.due_date, loan.as_of),
        "overdue": loan.overdue,
        "renewals_used": loan.renewals_used,
        "renewals_allowed": loan.renewals_allowed,
        "blocked_by_hold": loan.blocked_by_hold,
    }


def hold_view(hold: Hold) -> dict[str, Any]:
    """A hold as the panel shows it (status and pickup branch in words)."""
    return schemas.LibraryHold.view(
        hold_id=hold.hold_id,
        record_id=hold.record_id,
        title=hold.title,
        format=hold.format,
        status=hold.status,
        status_label=_HOLD_STATUS.get(hold.status, hold.status),
        pickup_branch=hold.pickup_branch,
        pickup_branch_name=_branch_name(hold.pickup_branch),
        queue_position=hold.queue_position,
        pickup_by=hold.pickup_by,
        pickup_by_label=None if hold.pickup_by is None else day_label(hold.pickup_by),
    )


def account_view(
    card: str, loans: list[Loan], holds: list[Hold], fines: FineSummary, today: dt.date
) -> dict[str, Any]:
    """The reader's account as the panel shows it, card masked."""
    return schemas.LibraryAccount.view(
        card=mask_card(card),
        today_label=day_label(today),
        loans=[_loan_view(loan) for loan in loans],
        holds=[hold_view(hold) for hold in holds],
        charges={
            "total": str(fines.total),
            "currency": fines.currency,
            "blocks_borrowing": fines.blocks_borrowing,
            "items": [
                {
                    "description": item.description,
                    "amount": str(item.amount),
                    "date": item.date,
                    "date_label": day_label(item.date),
                }
                for item in fines.items
            ],
        },
    )


def card_on_file(session: Session, reader_id: int) -> str:
    """The verified reader's card number (404 unknown reader, 409 no card on file)."""
    reader = session.get(Reader, reader_id)
    if reader is None:
        raise NotFound("not_found", f"No reader has the id {reader_id}.")
    if reader.card_number is None or reader.verified_at is None:
        raise Conflict(
            "no_card_on_file",
            "This reader has not signed in with a library card, so the library system "
            "cannot be asked about their account.",
        )
    return str(reader.card_number)


async def ask(call: Awaitable[T]) -> T:
    """Await one library-system call; an outage or a timeout becomes a 503."""
    try:
        return await asyncio.wait_for(call, CALL_TIMEOUT_SECONDS)
    except (LibrarySystemUnavailable, asyncio.TimeoutError) as error:
        raise LibraryUnavailable() from error


async def patron_for(card: str) -> tuple[LibrarySystem, str]:
    """The adapter and the patron id of ``card`` (409 when the system does not know it)."""
    system = get_library_system()
    patron_id = await ask(system.patron_id_for_card(card))
    if patron_id is None:
        raise Conflict(
            "card_not_in_library_system",
            f"The library system has no reader with the card {mask_card(card)}.",
        )
    return system, patron_id


async def account(card: str) -> dict[str, Any]:
    """Loans, holds and charges of the reader with ``card`` (503 when the system is down)."""
    system, patron_id = await patron_for(card)
    try:
        loans = await ask(system.loans(patron_id))
        holds = await ask(system.holds(patron_id))
        fines = await ask(system.fines(patron_id))
    except LibrarySystemError as error:  # NotAuthenticated: the id went stale
        raise Conflict("library_system_refused", str(error)) from error
    today = loans[0].as_of if loans else library_today(clock.now())
    return account_view(card, loans, holds, fines, today)


async def renew(card: str, body: dict[str, Any]) -> dict[str, Any]:
    """Renew ``body["item_id"]``; the outcome's fields, or 404/409 with the ILS's reason."""
    item_id = body.get("item_id")
    if not isinstance(item_id, str) or not item_id.strip() or len(item_id) > 64:
        raise BadRequest("bad_item_id", "item_id must be the barcode of one of the loans.")
    system, patron_id = await patron_for(card)
    outcomes = await ask(system.renew(patron_id, [item_id.strip()]))
    outcome = outcomes[0]
    if outcome.reason == "not_on_loan":
        raise NotFound("loan_not_found", outcome.message, reason=outcome.reason)
    if not outcome.renewed or outcome.new_due_date is None:
        raise Conflict("renewal_refused", outcome.message, reason=outcome.reason)
    loans = await ask(system.loans(patron_id))
    today = loans[0].as_of if loans else outcome.new_due_date
    return {
        "item_id": outcome.item_id,
        "title": outcome.title,
        "new_due_date": outcome.new_due_date,
        "due_label": day_label(outcome.new_due_date),
        "due_relative": due_relative(outcome.new_due_date, today),
        "message": outcome.message,
    }


async def place_hold(card: str, body: dict[str, Any]) -> dict[str, Any]:
    """Place a hold from ``body``; the new hold, or 409 ``hold_refused`` with the reason."""
    fields = {name: body.get(name) for name in ("record_id", "format", "pickup_branch")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise BadRequest("bad_request", f"{name} must be given as text.")
    record_id, fmt, branch = (str(value).strip() for value in fields.values())
    system, patron_id = await patron_for(card)
    try:
        placed = await ask(system.place_hold(patron_id, record_id, fmt, branch))
    except HoldRefused as error:
        raise Conflict("hold_refused", str(error), reason=error.reason) from error
    return {"hold": hold_view(placed.hold), "message": placed.message}


def record_renewal(
    session: Session, reader_id: int, staff_id: int, renewed: dict[str, Any]
) -> dict[str, Any]:
    """Audit a renewal made on the reader's behalf; the reply with its audit id."""
    entry = audit(
        session,
        staff_id,
        RENEW_ACTION,
        f"reader:{reader_id}",
        item_id=renewed["item_id"],
        title=renewed["title"],
        new_due_date=renewed["new_due_date"].isoformat(),
    )
    session.flush()
    return schemas.RenewReply.view(audit_id=int(entry.id), **renewed)


def record_hold(
    session: Session, reader_id: int, staff_id: int, placed: dict[str, Any]
) -> dict[str, Any]:
    """Audit a hold placed on the reader's behalf; the reply with its audit id."""
    hold = placed["hold"]
    entry = audit(
        session,
        staff_id,
        HOLD_ACTION,
        f"reader:{reader_id}",
        hold_id=hold["hold_id"],
        record_id=hold["record_id"],
        title=hold["title"],
        pickup_branch=hold["pickup_branch"],
        pickup_branch_name=hold["pickup_branch_name"],
    )
    session.flush()
    return schemas.HoldReply.view(audit_id=int(entry.id), **placed)


async def catalogue(query: object) -> list[dict[str, Any]]:
    """Catalogue records matching ``query`` (at most 10), to place a hold on."""
    text = query.strip() if isinstance(query, str) else ""
    if not text:
        return []
    if len(text) > 200:
        raise BadRequest("query_too_long", "Search for at most 200 characters.")
    hits = await ask(get_library_system().search(text, limit=10))
    return [
        schemas.CatalogueHit.view(
            record_id=hit.record_id,
            title=hit.title,
            author=hit.author,
            year=hit.year,
            format=hit.format,
            available=hit.available_count,
            total=hit.total_count,
        )
        for hit in hits
    ]
