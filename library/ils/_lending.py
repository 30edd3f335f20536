"""The demo library's lending rules and its loans and holds as records (private to the package).

The demo adapter keeps loans, holds and charges in SQLite (``_store``); this module
turns those rows into the public records and decides each renewal by the rules
below, the first refusing rule winning.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from library.ils import _format
from library.ils._catalog import CatalogRecord
from library.ils.records import Hold, HoldStatus, Loan, RenewalOutcome, RenewalReason

__all__ = [
    "FINE_LIMIT",
    "MATERIAL_RULES",
    "MAX_DAYS_OVERDUE_TO_RENEW",
    "MaterialRule",
    "judge_renewal",
    "read_holds",
    "read_loans",
    "total_owed",
]

FINE_LIMIT = Decimal("10.00")
"""Charges at or above this block borrowing and renewing."""
MAX_DAYS_OVERDUE_TO_RENEW = 30
"""An item more overdue than this must come back (or be renewed by staff)."""


@dataclass(frozen=True)
class MaterialRule:
    """Lending rules for one material type.

    Attributes:
        loan_days: Days a loan (and each renewal) lasts.
        renewals: Renewals allowed per loan.
    """

    loan_days: int
    renewals: int


MATERIAL_RULES: dict[str, MaterialRule] = {
    "book": MaterialRule(loan_days=21, renewals=3),
    "large_print": MaterialRule(loan_days=21, renewals=3),
    "audiobook": MaterialRule(loan_days=21, renewals=2),
    "ebook": MaterialRule(loan_days=14, renewals=2),
    "dvd": MaterialRule(loan_days=7, renewals=1),
}


def _loan(row: sqlite3.Row, record: CatalogRecord, today: dt.date) -> Loan:
    return Loan(
        item_id=row["item_id"],
        record_id=record.record_id,
        title=record.title,
        author=record.author,
        format=record.format,
        due_date=dt.date.fromisoformat(row["due_date"]),
        renewals_used=row["renewals_used"],
        renewals_allowed=MATERIAL_RULES[record.format].renewals,
        blocked_by_hold=bool(row["blocked"]),
        as_of=today,
    )


def read_loans(
    db: sqlite3.Connection, catalog: Mapping[str, CatalogRecord], patron_id: str, today: dt.date
) -> list[Loan]:
    """The reader's loans, soonest due first, each marked when another reader holds it."""
    query = (
        "SELECT l.*, EXISTS (SELECT 1 FROM holds h WHERE h.record_id = l.record_id "
        "AND (h.patron_id IS NULL OR h.patron_id != l.patron_id)) AS blocked "
        "FROM loans l WHERE l.patron_id = ? ORDER BY l.due_date, l.item_id"
    )
    return [
        _loan(row, catalog[row["record_id"]], today)
        for row in db.execute(query, (patron_id,)).fetchall()
    ]


def read_holds(
    db: sqlite3.Connection, catalog: Mapping[str, CatalogRecord], patron_id: str
) -> list[Hold]:
    """The reader's holds, oldest first, with their place in each record's queue."""
    holds = []
    for row in db.execute(
        "SELECT h.*, (SELECT COUNT(*) FROM holds o WHERE o.record_id = h.record_id "
        "AND o.seq < h.seq) + 1 AS position FROM holds h WHERE h.patron_id = ? ORDER BY h.seq",
        (patron_id,),
    ).fetchall():
        record = catalog[row["record_id"]]
        status: HoldStatus = row["status"]
        pickup_by = row["pickup_by"]
        holds.append(
            Hold(
                hold_id=f"H{row['seq']:06d}",
                record_id=record.record_id,
                title=record.title,
                format=record.format,
                pickup_branch=row["pickup_branch"],
                status=status,
                queue_position=row["position"],
                pickup_by=dt.date.fromisoformat(pickup_by) if pickup_by else None,
            )
        )
    return holds


def total_owed(db: sqlite3.Connection, patron_id: str) -> Decimal:
    """The sum of the reader's charges."""
    rows = db.execute("SELECT amount FROM fines WHERE patron_id = ?", (patron_id,)).fetchall()
    return sum((Decimal(row["amount"]) for row in rows), Decimal("0.00"))


def _refuse(item_id: str, title: str | None, reason: RenewalReason, message: str) -> RenewalOutcome:
    return RenewalOutcome(item_id, title, False, None, reason, message)  # not renewed, no new date


def judge_renewal(loan: Loan | None, item_id: str, owed: Decimal, today: dt.date) -> RenewalOutcome:
    """Decide one renewal; the first rule that refuses wins.

    Args:
        loan: The reader's loan of ``item_id``, or None when it is not on loan to them.
        item_id: The item asked about.
        owed: The reader's charges.
        today: The library's local date.

    Returns:
        The outcome, with the new due date when renewed.
    """
    if loan is None:
        return _refuse(item_id, None, "not_on_loan", f"Item {item_id} isn't on loan to you.")
    title, due = f"“{loan.title}”", _format.day(loan.due_date)
    if owed >= FINE_LIMIT:
        return _refuse(
            item_id,
            loan.title,
            "account_blocked",
            f"{title} can't be renewed while your account owes {_format.money(owed)} "
            f"(renewals stop at {_format.money(FINE_LIMIT)}). It's due {due}; you can pay "
            "at any branch or ask a librarian.",
        )
    if loan.days_overdue > MAX_DAYS_OVERDUE_TO_RENEW:
        return _refuse(
            item_id,
            loan.title,
            "too_overdue",
            f"{title} is {loan.days_overdue} days overdue, too late to renew online. "
            "Please return it, or ask a librarian.",
        )
    if loan.blocked_by_hold:
        return _refuse(
            item_id,
            loan.title,
            "on_hold_for_another_reader",
            f"{title} can't be renewed because another reader is waiting for it. "
            f"Please return it by {due}.",
        )
    if loan.renewals_used >= loan.renewals_allowed:
        return _refuse(
            item_id,
            loan.title,
            "max_renewals_reached",
            f"{title} has been renewed the most times allowed ({loan.renewals_allowed}). "
            f"Please return it by {due}.",
        )
    new_due = max(loan.due_date, today) + dt.timedelta(days=MATERIAL_RULES[loan.format].loan_days)
    return RenewalOutcome(
        item_id=item_id,
        title=loan.title,
        renewed=True,
        new_due_date=new_due,
        reason="renewed",
        message=f"{title} is renewed and now due {_format.day(new_due)}.",
    )
