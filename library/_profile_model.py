"""The library profile's records: frozen dataclasses built by :func:`library.profile.parse_profile`.

Private to the package; import them from :mod:`library.profile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class ProfileError(Exception):
    """The library profile is missing, unreadable or has an invalid field.

    The message starts with the dotted path of the offending field.
    """


@dataclass(frozen=True)
class OpeningTimes:
    """Opening and closing time of one day, in the library's local time."""

    open: time
    close: time


@dataclass(frozen=True)
class Branch:
    """One library branch.

    Attributes:
        id: Canonical id, also the value of the NLU entity ``branch``.
        name: Full name, e.g. "Northside Branch".
        short_name: Name used in running text, e.g. "Northside".
        aliases: Lower-case words readers use for the branch.
        hours: Opening times per weekday (index 0 = Monday); ``None`` means closed.
    """

    id: str
    name: str
    short_name: str
    aliases: tuple[str, ...]
    address: str
    phone: str
    email: str
    accessibility: str
    parking: str
    hours: tuple[OpeningTimes | None, ...]


@dataclass(frozen=True)
class Closure:
    """A holiday closure or early closing on one date.

    Attributes:
        date: The day it applies to.
        name: Holiday name, e.g. "Christmas Eve".
        type: ``closed`` (all day) or ``early_closing`` (closes at ``close``).
        close: Closing time for an early closing, else ``None``.
        branches: Ids of the branches it applies to.
    """

    date: date
    name: str
    type: Literal["closed", "early_closing"]
    close: time | None
    branches: frozenset[str]


@dataclass(frozen=True)
class LoanRule:
    """Loan rule for one material type; money is in the library's currency."""

    material: str
    loan_period_days: int
    max_renewals: int
    max_items: int
    overdue_fee_per_day: float
    max_fee: float


@dataclass(frozen=True)
class LibraryInfo:
    """The library as a whole."""

    name: str
    short_name: str
    timezone: str
    currency: str
    website: str
    catalogue_url: str


@dataclass(frozen=True)
class LibraryProfile:
    """The validated library profile.

    Attributes:
        library: Name, timezone and web addresses.
        branches: The branches, in profile order.
        closures: Holiday closures and early closings, sorted by date.
        chat_hours: Hours when librarians staff the chat, per weekday.
        contacts: Contact addresses by key (``email``, ``phone`` ...).
        loan_rules: Loan rule per material type.
        total_max_items: Most items one member may have out over all types.
        raw: The whole parsed YAML document, read-only, for FAQ placeholders.
        suggested_topics: What the web widget offers as buttons when its panel opens
            on an empty conversation; each is sent as the reader's message.
    """

    library: LibraryInfo
    branches: tuple[Branch, ...]
    closures: tuple[Closure, ...]
    chat_hours: tuple[OpeningTimes | None, ...]
    contacts: Mapping[str, str]
    loan_rules: Mapping[str, LoanRule]
    total_max_items: int
    raw: Mapping[str, Any]
    suggested_topics: tuple[str, ...] = ()

    @property
    def timezone(self) -> str:
        """The IANA name of the library's local timezone."""
        return self.library.timezone

    @property
    def tz(self) -> ZoneInfo:
        """The library's local timezone."""
        return ZoneInfo(self.library.timezone)

    @property
    def branch_ids(self) -> tuple[str, ...]:
        """The branch ids in profile order."""
        return tuple(branch.id for branch in self.branches)

    def branch(self, branch_id: str) -> Branch:
        """Return the branch with this id.

        Raises:
            KeyError: There is no such branch.
        """
        for branch in self.branches:
            if branch.id == branch_id:
                return branch
        raise KeyError(branch_id)

    def closures_on(self, day: date, branch_id: str) -> tuple[Closure, ...]:
        """Return the closures that apply to one branch on one day."""
        return tuple(c for c in self.closures if c.date == day and branch_id in c.branches)
