"""Loading and checking the demo catalogue file (private to the package)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from library.ils.errors import LibrarySystemConfigurationError
from library.ils.records import BranchAvailability, SearchResult

BRANCHES: tuple[str, ...] = ("central", "northside", "riverside", "online")
"""Every branch id, in display order; "online" lends digital items only."""

PICKUP_BRANCHES: tuple[str, ...] = ("central", "northside", "riverside")
"""Branches a reader can collect a physical item from."""

DIGITAL_FORMATS: frozenset[str] = frozenset({"ebook", "audiobook"})
"""Formats lent online, collected nowhere."""

FORMATS: frozenset[str] = frozenset({"book", "large_print", "ebook", "audiobook", "dvd"})

COPY_STATUSES: frozenset[str] = frozenset({"available", "on_loan", "in_transit", "missing"})

_FORMAT_ALIASES = {
    "e-book": "ebook",
    "audio": "audiobook",
    "audio book": "audiobook",
    "large print": "large_print",
    "large-print": "large_print",
    "film": "dvd",
}


def canonical_format(value: str) -> str:
    """The format id for a format a caller named ("audio book" -> "audiobook")."""
    cleaned = value.strip().lower()
    return _FORMAT_ALIASES.get(cleaned, cleaned.replace(" ", "_"))


@dataclass(frozen=True)
class CatalogRecord:
    """One catalogue record as the demo holds it."""

    record_id: str
    title: str
    author: str
    year: int
    subjects: tuple[str, ...]
    format: str
    isbn: str | None
    availability: tuple[BranchAvailability, ...]

    def as_result(self, score: float) -> SearchResult:
        """The record as a search result with this relevance score (its fields and the score)."""
        return SearchResult(**{f.name: getattr(self, f.name) for f in fields(self)}, score=score)


def _availability(copies: list[dict[str, Any]]) -> tuple[BranchAvailability, ...]:
    counts: dict[str, list[int]] = {}
    for copy in copies:
        if copy["status"] == "missing":
            continue  # a missing copy cannot be lent, so it is not offered
        available, total = counts.setdefault(copy["branch"], [0, 0])
        counts[copy["branch"]] = [available + (copy["status"] == "available"), total + 1]
    return tuple(
        BranchAvailability(branch=branch, available=counts[branch][0], total=counts[branch][1])
        for branch in BRANCHES
        if branch in counts
    )


def _check(entry: dict[str, Any], position: int) -> None:
    where = f"catalogue entry {position} ({entry.get('id', '?')})"
    for key, kind in (
        ("id", str),
        ("title", str),
        ("author", str),
        ("year", int),
        ("subjects", list),
        ("format", str),
        ("copies", list),
    ):
        if not isinstance(entry.get(key), kind):
            raise LibrarySystemConfigurationError(f"{where}: '{key}' must be a {kind.__name__}")
    if entry["format"] not in FORMATS:
        raise LibrarySystemConfigurationError(f"{where}: unknown format {entry['format']!r}")
    for copy in entry["copies"]:
        if copy.get("branch") not in BRANCHES or copy.get("status") not in COPY_STATUSES:
            raise LibrarySystemConfigurationError(f"{where}: bad copy {copy!r}")


def load_catalog(path: Path) -> dict[str, CatalogRecord]:
    """Read and check ``catalog.json``.

    Args:
        path: The catalogue file.

    Returns:
        The records by record id, in file order.

    Raises:
        LibrarySystemConfigurationError: The file is missing or malformed.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise LibrarySystemConfigurationError(f"cannot read catalogue {path}: {error}") from error
    records: dict[str, CatalogRecord] = {}
    for position, entry in enumerate(entries):
        _check(entry, position)
        if entry["id"] in records:
            raise LibrarySystemConfigurationError(f"duplicate catalogue id {entry['id']}")
        records[entry["id"]] = CatalogRecord(
            record_id=entry["id"],
            title=entry["title"],
            author=entry["author"],
            year=entry["year"],
            subjects=tuple(entry["subjects"]),
            format=entry["format"],
            isbn=entry.get("isbn"),
            availability=_availability(entry["copies"]),
        )
    return records
