"""Immutable records that every library-system adapter returns.

Dates are calendar dates in the library's local time zone (a due date is a day,
not an instant). Money is `decimal.Decimal`, never float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from crm_store.redaction import mask_card

__all__ = [
    "BranchAvailability",
    "FineItem",
    "FineSummary",
    "Hold",
    "HoldPlaced",
    "HoldStatus",
    "Loan",
    "Patron",
    "RenewalOutcome",
    "RenewalReason",
    "SearchResult",
]

HoldStatus = Literal["waiting", "in_transit", "ready_for_pickup"]
"""Where a hold stands: queued, a copy travelling to the pickup branch, or on the shelf."""

RenewalReason = Literal[
    "renewed",
    "on_hold_for_another_reader",
    "max_renewals_reached",
    "too_overdue",
    "account_blocked",
    "not_on_loan",
]
"""Why a renewal did or did not happen; the values are stable and safe to branch on."""


@dataclass(frozen=True)
class Patron:
    """A signed-in reader.

    Attributes:
        patron_id: The system's id for the reader; every other call takes it.
        card_number: The full card number. Kept out of ``repr`` so that logging a
            patron never leaks it; show `masked_card` instead.
        name: The reader's full name.
        email: The reader's email address.
        home_branch: The reader's home branch id.
    """

    patron_id: str
    card_number: str = field(repr=False)
    name: str
    email: str
    home_branch: str

    @property
    def masked_card(self) -> str:
        """The card number with all but the last four digits hidden."""
        return mask_card(self.card_number)

    @property
    def first_name(self) -> str:
        """The first word of the reader's name, for greetings."""
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True)
class Loan:
    """An item on loan to a reader.

    Attributes:
        item_id: The barcode of the physical (or licensed) copy.
        record_id: The catalogue record the copy belongs to.
        title: The record's title.
        author: The record's author, "Surname, Forenames".
        format: The material type, such as "book" or "dvd".
        due_date: The day the item is due back.
        renewals_used: Renewals already made.
        renewals_allowed: Renewals allowed in total for this material type.
        blocked_by_hold: Whether another reader has a hold on the record, which
            stops renewal.
        as_of: The system's "today" when this record was read; `overdue` is
            measured against it.
    """

    item_id: str
    record_id: str
    title: str
    author: str
    format: str
    due_date: dt.date
    renewals_used: int
    renewals_allowed: int
    blocked_by_hold: bool
    as_of: dt.date

    @property
    def overdue(self) -> bool:
        """Whether the due date has passed."""
        return self.due_date < self.as_of

    @property
    def days_overdue(self) -> int:
        """Days past the due date, 0 when not overdue."""
        return max(0, (self.as_of - self.due_date).days)

    @property
    def renewals_left(self) -> int:
        """Renewals still allowed, ignoring holds and blocks."""
        return max(0, self.renewals_allowed - self.renewals_used)


@dataclass(frozen=True)
class RenewalOutcome:
    """What happened to one item in a renewal request.

    Attributes:
        item_id: The item asked about.
        title: Its title, or None when the item is not on loan to the reader.
        renewed: Whether the item was renewed.
        new_due_date: The new due date when renewed, else None.
        reason: Why, see `RenewalReason`.
        message: A plain sentence for the reader.
    """

    item_id: str
    title: str | None
    renewed: bool
    new_due_date: dt.date | None
    reason: RenewalReason
    message: str


@dataclass(frozen=True)
class Hold:
    """A reader's hold (reservation) on a catalogue record.

    Attributes:
        hold_id: The system's id for the hold.
        record_id: The catalogue record held.
        title: The record's title.
        format: The record's material type.
        pickup_branch: Where the reader collects it ("online" for digital items).
        status: See `HoldStatus`.
        queue_position: 1 is next in line.
        pickup_by: Last day to collect it when ``status`` is "ready_for_pickup",
            else None.
    """

    hold_id: str
    record_id: str
    title: str
    format: str
    pickup_branch: str
    status: HoldStatus
    queue_position: int
    pickup_by: dt.date | None = None


@dataclass(frozen=True)
class HoldPlaced:
    """A newly placed hold and a sentence for the reader.

    Attributes:
        hold: The hold as the system now has it.
        message: A plain sentence for the reader.
    """

    hold: Hold
    message: str

    @property
    def queue_position(self) -> int:
        """The new hold's place in the queue (1 is next in line)."""
        return self.hold.queue_position


@dataclass(frozen=True)
class FineItem:
    """One charge on a reader's account.

    Attributes:
        description: What the charge is for.
        amount: The amount outstanding.
        date: The day it was charged.
    """

    description: str
    amount: Decimal
    date: dt.date


@dataclass(frozen=True)
class FineSummary:
    """A reader's outstanding charges.

    Attributes:
        total: The sum of ``items``.
        currency: ISO 4217 currency code.
        items: The individual charges, oldest first.
        blocks_borrowing: Whether the total is at or over the limit that blocks
            borrowing and renewing.
    """

    total: Decimal
    currency: str
    items: tuple[FineItem, ...]
    blocks_borrowing: bool


@dataclass(frozen=True)
class BranchAvailability:
    """How many copies of a record one branch has.

    Attributes:
        branch: The branch id ("central", "northside", "riverside", "online").
        available: Copies on the shelf (or licences free) now.
        total: Copies that can be lent (missing copies are not counted).
    """

    branch: str
    available: int
    total: int


@dataclass(frozen=True)
class SearchResult:
    """One catalogue record matching a search.

    Attributes:
        record_id: The catalogue record id (what `LibrarySystem.place_hold` takes).
        title: The title.
        author: The author, "Surname, Forenames".
        year: Year of publication.
        format: The material type.
        subjects: Subject headings.
        availability: Copies per branch, in branch order.
        score: Relevance, higher is better; only comparable within one search.
        isbn: The ISBN when known.
    """

    record_id: str
    title: str
    author: str
    year: int
    format: str
    subjects: tuple[str, ...]
    availability: tuple[BranchAvailability, ...]
    score: float
    isbn: str | None = None

    @property
    def available_count(self) -> int:
        """Copies available now, across all branches."""
        return sum(branch.available for branch in self.availability)

    @property
    def total_count(self) -> int:
        """Lendable copies across all branches."""
        return sum(branch.total for branch in self.availability)
