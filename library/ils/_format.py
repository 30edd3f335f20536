"""Reader-facing wording shared by adapters (private to the package)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

BRANCH_NAMES = {
    "central": "Central Library",
    "northside": "Northside Library",
    "riverside": "Riverside Library",
    "online": "online",
}
FORMAT_NAMES = {
    "book": "book",
    "large_print": "large-print book",
    "ebook": "ebook",
    "audiobook": "audiobook",
    "dvd": "DVD",
}


def day(date: dt.date) -> str:
    """Format a date as "Tuesday 22 December 2026"."""
    return f"{date:%A} {date.day} {date:%B %Y}"


def money(amount: Decimal) -> str:
    """Format pounds as "£12.50"."""
    return f"£{amount:.2f}"
