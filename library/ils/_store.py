"""The demo adapter's mutable state in SQLite (private to the package).

Static facts (names, PIN hashes, the catalogue) stay in the JSON files; what
changes (due dates, renewals, holds, wrong-PIN counters, locks, charges) lives
here, seeded lazily from ``patrons.json`` with days made relative to "today".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from library.ils.errors import LibrarySystemConfigurationError, LibrarySystemError
from library.ils.records import Patron

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cards (
    card_number TEXT PRIMARY KEY,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS loans (
    item_id TEXT PRIMARY KEY,
    patron_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    due_date TEXT NOT NULL,
    renewals_used INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_id TEXT,
    record_id TEXT NOT NULL,
    pickup_branch TEXT NOT NULL,
    status TEXT NOT NULL,
    placed_on TEXT NOT NULL,
    pickup_by TEXT
);
CREATE TABLE IF NOT EXISTS fines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_id TEXT NOT NULL,
    description TEXT NOT NULL,
    amount TEXT NOT NULL,
    charged_on TEXT NOT NULL
);
"""
_TABLES = ("meta", "cards", "loans", "holds", "fines")


@dataclass(frozen=True)
class DemoPatron:
    """A demo reader as ``patrons.json`` describes them."""

    patron_id: str
    card_number: str
    name: str
    email: str
    home_branch: str
    pin_hash: str = ""
    locked: bool = False

    def as_patron(self) -> Patron:
        """The signed-in reader as adapters return it (without the PIN hash or lock)."""
        return Patron(**{f.name: getattr(self, f.name) for f in fields(Patron)})


@dataclass(frozen=True)
class SeedData:
    """Everything in ``patrons.json``."""

    patrons: tuple[DemoPatron, ...]
    raw: dict[str, Any]
    digest: str


def load_seed(path: Path, record_ids: set[str]) -> SeedData:
    """Read and check ``patrons.json``.

    Args:
        path: The file.
        record_ids: The catalogue's record ids, which every loan and hold must name.

    Returns:
        The patrons and the raw document for seeding.

    Raises:
        LibrarySystemConfigurationError: The file is missing or malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
        patrons = tuple(
            DemoPatron(
                patron_id=entry["patron_id"],
                card_number=entry["card_number"],
                name=entry["name"],
                email=entry["email"],
                home_branch=entry["home_branch"],
                pin_hash=entry["pin_hash"],
                locked=bool(entry.get("locked", False)),
            )
            for entry in raw["patrons"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        message = f"cannot read demo patrons {path}: {error}"
        raise LibrarySystemConfigurationError(message) from error
    holds = [h for p in raw["patrons"] for h in p["holds"]] + raw.get("other_readers_holds", [])
    loans = [loan for p in raw["patrons"] for loan in p["loans"]]
    unknown = {e["record_id"] for e in holds + loans} - record_ids
    if unknown:
        message = f"demo patrons name unknown records {sorted(unknown)}"
        raise LibrarySystemConfigurationError(message)
    if len({p.card_number for p in patrons}) != len(patrons):
        raise LibrarySystemConfigurationError("demo patrons share a card number")
    return SeedData(patrons=patrons, raw=raw, digest=hashlib.sha256(text.encode()).hexdigest())


class StateStore:
    """One SQLite file, one connection per operation, one operation at a time per process.

    Every operation runs in a ``BEGIN IMMEDIATE`` transaction, so other processes
    on the same file wait their turn too. Domain errors (`LibrarySystemError`)
    raised inside an operation still commit, because a wrong PIN must be counted
    even though the caller gets an exception; anything else rolls back.
    """

    def __init__(
        self,
        path: Path,
        seed: SeedData,
        today: Callable[[], dt.date],
        max_state_age_days: int,
        failed_pins_to_lock: int,
    ) -> None:
        """Remember where the state lives; nothing is opened until first use.

        Args:
            path: The SQLite file; its folder is created on first use.
            seed: What to seed an empty (or stale) database with.
            today: The clock.
            max_state_age_days: Reseed when the state was seeded longer ago than this.
            failed_pins_to_lock: The wrong-PIN count a seeded locked card starts with.
        """
        self.path = path
        self._seed = seed
        self._today = today
        self._max_age = max_state_age_days
        self._failed_pins_to_lock = failed_pins_to_lock
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Open a seeded database in a write transaction.

        Yields:
            The connection; rows come back as `sqlite3.Row`.
        """
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
                db.row_factory = sqlite3.Row
                db.executescript(_SCHEMA)
                db.execute("BEGIN IMMEDIATE")
                try:
                    self._seed_if_needed(db)
                    yield db
                except LibrarySystemError:
                    db.execute("COMMIT")
                    raise
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")

    def reset(self) -> None:
        """Forget all state; the next operation seeds afresh."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
                db.executescript(_SCHEMA)
                db.execute("BEGIN IMMEDIATE")
                for table in _TABLES:
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
                db.execute("DELETE FROM sqlite_sequence")
                db.execute("COMMIT")

    def _seed_if_needed(self, db: sqlite3.Connection) -> None:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        today = self._today()
        if meta.get("seed_digest") == self._seed.digest and "seeded_on" in meta:
            age = abs((today - dt.date.fromisoformat(meta["seeded_on"])).days)
            if age <= self._max_age:
                return
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._write_seed(db, today)
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("seeded_on", today.isoformat()), ("seed_digest", self._seed.digest)],
        )

    def _write_seed(self, db: sqlite3.Connection, today: dt.date) -> None:
        def day(offset: int) -> str:
            return (today + dt.timedelta(days=offset)).isoformat()

        raw = self._seed.raw
        holds: list[tuple[str | None, dict[str, Any]]] = [
            (None, h) for h in raw.get("other_readers_holds", [])
        ]
        failed_pins_to_lock = self._failed_pins_to_lock
        for entry in raw["patrons"]:
            locked = bool(entry.get("locked"))
            db.execute(
                "INSERT INTO cards (card_number, failed_attempts, locked) VALUES (?, ?, ?)",
                (entry["card_number"], failed_pins_to_lock if locked else 0, int(locked)),
            )
            for loan in entry["loans"]:
                db.execute(
                    "INSERT INTO loans (item_id, patron_id, record_id, due_date, renewals_used) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        loan["item_id"],
                        entry["patron_id"],
                        loan["record_id"],
                        day(loan["due_in_days"]),
                        loan["renewals_used"],
                    ),
                )
            for fine in entry["fines"]:
                db.execute(
                    "INSERT INTO fines (patron_id, description, amount, charged_on) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        entry["patron_id"],
                        fine["description"],
                        fine["amount"],
                        day(-fine["charged_days_ago"]),
                    ),
                )
            holds.extend((entry["patron_id"], h) for h in entry["holds"])
        # The queue is the order holds were placed in, so seed the oldest first.
        holds.sort(key=lambda pair: -pair[1]["placed_days_ago"])
        for patron_id, hold in holds:
            pickup_by = hold.get("pickup_by_in_days")
            db.execute(
                "INSERT INTO holds (patron_id, record_id, pickup_branch, status, placed_on, "
                "pickup_by) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    patron_id,
                    hold["record_id"],
                    hold["pickup_branch"],
                    hold["status"],
                    day(-hold["placed_days_ago"]),
                    None if pickup_by is None else day(pickup_by),
                ),
            )
