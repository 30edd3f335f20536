"""The demo library system: a believable library in two JSON files and a SQLite file.

It is the default adapter, so the assistant can be tried, tested and demonstrated
without a real library system. The catalogue (``data/catalog.json``) and the
demo readers (``data/patrons.json``, documented in this package's README) are
read once; what readers change (renewals, holds, wrong-PIN counters, locks) is
kept in SQLite at ``RIC_DEMO_ILS_DB`` (default ``var/demo_ils.db``).

For demonstrating outages, every method raises `LibrarySystemUnavailable` while
``RIC_LIBRARY_SYSTEM_DOWN=1`` or while a file named ``ils_down`` exists next to
the database; both are checked on every call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from crm_store.redaction import mask_card
from library.ils import _format, errors, records
from library.ils._cards import is_locked, record_pin_attempt, unlock
from library.ils._catalog import (
    DIGITAL_FORMATS,
    PICKUP_BRANCHES,
    CatalogRecord,
    canonical_format,
    load_catalog,
)
from library.ils._lending import (
    FINE_LIMIT,
    MaterialRule,
    judge_renewal,
    read_holds,
    read_loans,
    total_owed,
)
from library.ils._pins import verify_pin
from library.ils._search import SearchIndex
from library.ils._store import DemoPatron, StateStore, load_seed
from library.ils.base import LibrarySystem
from ric_config import LibraryConfig

__all__ = [
    "DemoLibrarySystem",
    "DemoSettings",
    "MaterialRule",
    "london_today",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_DATA = Path(__file__).resolve().parent / "data"
_LONDON = ZoneInfo("Europe/London")

MAX_FAILED_PINS = 5
"""Consecutive wrong PINs that lock a card."""
MAX_HOLDS = 10
"""Active holds a reader may have at once."""


def london_today() -> dt.date:
    """Today's date in Europe/London, the demo library's time zone."""
    return dt.datetime.now(_LONDON).date()


@dataclass(frozen=True)
class DemoSettings:
    """Where the demo adapter keeps its data.

    Attributes:
        db_path: The SQLite state file.
        catalog_path: The catalogue JSON.
        patrons_path: The demo readers JSON.
        max_state_age_days: State seeded longer ago than this is thrown away and
            seeded afresh, so a long-running demo keeps realistic dates.
    """

    db_path: Path
    catalog_path: Path = _DATA / "catalog.json"
    patrons_path: Path = _DATA / "patrons.json"
    max_state_age_days: int = 30

    @classmethod
    def from_env(cls) -> DemoSettings:
        """Read ``RIC_DEMO_ILS_DB`` (default ``var/demo_ils.db``, relative to the cwd)."""
        return cls(db_path=Path(LibraryConfig().demo_ils_db or "var/demo_ils.db"))


class DemoLibrarySystem(LibrarySystem):
    """A `LibrarySystem` backed by the bundled demo data."""

    def __init__(
        self,
        settings: DemoSettings | None = None,
        *,
        db_path: str | Path | None = None,
        today: Callable[[], dt.date] = london_today,
    ) -> None:
        """Load and index the catalogue and the demo readers.

        Args:
            settings: Data locations; read from the environment when None.
            db_path: Overrides ``settings.db_path``.
            today: The clock, returning the library's local date.
        """
        settings = settings or DemoSettings.from_env()
        if db_path is not None:
            settings = DemoSettings(
                db_path=Path(db_path),
                catalog_path=settings.catalog_path,
                patrons_path=settings.patrons_path,
                max_state_age_days=settings.max_state_age_days,
            )
        self.settings = settings
        self._today = today
        self._catalog = load_catalog(settings.catalog_path)
        self._index = SearchIndex(self._catalog.values())
        seed = load_seed(settings.patrons_path, set(self._catalog))
        self._by_card = {patron.card_number: patron for patron in seed.patrons}
        self._by_id = {patron.patron_id: patron for patron in seed.patrons}
        self._store = StateStore(
            settings.db_path, seed, today, settings.max_state_age_days, MAX_FAILED_PINS
        )

    # -- housekeeping -------------------------------------------------------

    def reset(self) -> None:
        """Throw away all changes; the next call seeds the demo state afresh."""
        self._store.reset()

    def unlock_card(self, card_number: str) -> None:
        """Unlock a card and clear its wrong-PIN count, as staff would.

        Args:
            card_number: The card to unlock.
        """
        with self._store.transaction() as db:
            unlock(db, card_number.replace(" ", ""))
        logger.info("Card %s unlocked", mask_card(card_number))

    def _check_up(self) -> None:
        if LibraryConfig().library_system_down:
            raise errors.LibrarySystemUnavailable(
                "The library system is down (RIC_LIBRARY_SYSTEM_DOWN)."
            )
        if (self.settings.db_path.parent / "ils_down").exists():
            raise errors.LibrarySystemUnavailable(
                "The library system is down (ils_down switch file)."
            )

    async def _call(self, function: Callable[[], _T]) -> _T:
        self._check_up()
        try:
            return await asyncio.to_thread(function)
        except sqlite3.Error as error:
            logger.exception("The demo library system's database failed")
            raise errors.LibrarySystemUnavailable() from error

    async def _transact(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one transaction, off the event loop."""

        def run() -> _T:
            with self._store.transaction() as db:
                return work(db)

        return await self._call(run)

    async def _read(self, patron_id: str, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one transaction for a signed-in reader, off the event loop."""
        self._check_up()
        self._patron(patron_id)
        return await self._transact(work)

    def _patron(self, patron_id: str) -> DemoPatron:
        patron = self._by_id.get(patron_id)
        if patron is None:
            raise errors.NotAuthenticated(f"No signed-in reader has the id {patron_id!r}.")
        return patron

    # -- authentication -----------------------------------------------------

    async def authenticate(self, card_number: str, pin: str) -> records.Patron:
        """Sign a reader in; see `LibrarySystem.authenticate`."""
        self._check_up()
        card = "".join(card_number.split())
        masked = mask_card(card)
        patron = self._by_card.get(card)

        if patron is None:
            logger.info("Sign-in refused: unknown card %s", masked)
            raise errors.UnknownCard(card[-4:])
        if await self._transact(lambda db: is_locked(db, card)):
            logger.info("Sign-in refused: card %s is locked", masked)
            raise errors.CardLocked(card[-4:])
        # The hash check is deliberately slow, so keep it off the event loop and
        # outside the database lock.
        matches = await asyncio.to_thread(verify_pin, pin, patron.pin_hash)
        attempts_left = await self._transact(
            lambda db: record_pin_attempt(db, card, matches, MAX_FAILED_PINS)
        )
        if matches:
            logger.info("Card %s signed in", masked)
            return patron.as_patron()
        if attempts_left <= 0:
            logger.warning("Card %s locked after %d wrong PINs", masked, MAX_FAILED_PINS)
            raise errors.CardLocked(card[-4:])
        logger.info("Wrong PIN for card %s; %d attempt(s) left", masked, attempts_left)
        raise errors.AuthenticationFailed(card[-4:], attempts_left)

    async def patron_id_for_card(self, card_number: str) -> str | None:
        """The demo reader with this card, if any; see `LibrarySystem.patron_id_for_card`."""
        self._check_up()
        patron = self._by_card.get("".join(card_number.split()))
        return patron.patron_id if patron is not None else None

    # -- loans and renewals ---------------------------------------------------

    async def loans(self, patron_id: str) -> list[records.Loan]:
        """List the reader's loans, soonest due first; see `LibrarySystem.loans`."""
        return await self._read(
            patron_id, lambda db: read_loans(db, self._catalog, patron_id, self._today())
        )

    async def renew(
        self, patron_id: str, item_ids: list[str] | None = None
    ) -> list[records.RenewalOutcome]:
        """Renew loans; see `LibrarySystem.renew`.

        A renewal runs for the material type's loan period from the current due
        date, or from today when the item is already overdue. The checks, in
        order: on loan to this reader, charges under the limit, no more than 30
        days overdue, nobody else waiting, renewals left.
        """

        def renew(db: sqlite3.Connection) -> list[records.RenewalOutcome]:
            today = self._today()
            loans = {loan.item_id: loan for loan in read_loans(db, self._catalog, patron_id, today)}
            owed = total_owed(db, patron_id)
            wanted = list(loans) if item_ids is None else list(dict.fromkeys(item_ids))
            outcomes = []
            for item_id in wanted:
                outcome = judge_renewal(loans.get(item_id), item_id, owed, today)
                if outcome.renewed and outcome.new_due_date is not None:
                    db.execute(
                        "UPDATE loans SET due_date = ?, renewals_used = renewals_used + 1 "
                        "WHERE item_id = ?",
                        (outcome.new_due_date.isoformat(), item_id),
                    )
                outcomes.append(outcome)
            return outcomes

        outcomes = await self._read(patron_id, renew)
        logger.info(
            "Renewal for %s: %d of %d renewed",
            patron_id,
            sum(o.renewed for o in outcomes),
            len(outcomes),
        )
        return outcomes

    # -- holds ----------------------------------------------------------------

    async def holds(self, patron_id: str) -> list[records.Hold]:
        """List the reader's holds, oldest first; see `LibrarySystem.holds`."""
        return await self._read(patron_id, lambda db: read_holds(db, self._catalog, patron_id))

    def _hold_target(self, record_id: str, format: str) -> CatalogRecord:
        record = self._catalog.get(record_id)
        if record is None:
            raise errors.HoldRefused(
                "unknown_record", f"There is no catalogue record {record_id!r}."
            )
        wanted = canonical_format(format)
        if record.format == wanted:
            return record
        # The same work in another format is another record; hold that one instead.
        for other in self._catalog.values():
            if (other.title, other.author, other.format) == (record.title, record.author, wanted):
                return other
        name = _format.FORMAT_NAMES.get(wanted, wanted)
        raise errors.HoldRefused("format_not_held", f"We don't have “{record.title}” as a {name}.")

    async def place_hold(
        self, patron_id: str, record_id: str, format: str, pickup_branch: str
    ) -> records.HoldPlaced:
        """Place a hold; see `LibrarySystem.place_hold`.

        When ``format`` differs from the record's, the same title and author in
        that format is held instead. Digital formats are collected "online",
        whatever branch was asked for.
        """
        self._check_up()
        self._patron(patron_id)
        record = self._hold_target(record_id, format)
        branch = pickup_branch.strip().lower()
        if branch not in PICKUP_BRANCHES and not (
            record.format in DIGITAL_FORMATS and branch == "online"
        ):
            raise errors.HoldRefused(
                "unknown_pickup_branch",
                f"{pickup_branch!r} is not one of our branches; choose Central, Northside "
                "or Riverside.",
            )
        if record.format in DIGITAL_FORMATS:
            branch = "online"

        def place(db: sqlite3.Connection) -> records.Hold:
            # The reader already has it, on loan or on hold: the first match refuses.
            already: tuple[tuple[str, errors.HoldRefusalReason, str], ...] = (
                (
                    "SELECT 1 FROM loans WHERE patron_id = ? AND record_id = ?",
                    "already_on_loan",
                    f"You already have “{record.title}” on loan.",
                ),
                (
                    "SELECT 1 FROM holds WHERE patron_id = ? AND record_id = ?",
                    "already_on_hold",
                    f"You already have a hold on “{record.title}”.",
                ),
            )
            for query, reason, message in already:
                if db.execute(query, (patron_id, record.record_id)).fetchone():
                    raise errors.HoldRefused(reason, message)
            count = db.execute(
                "SELECT COUNT(*) FROM holds WHERE patron_id = ?", (patron_id,)
            ).fetchone()[0]
            if count >= MAX_HOLDS:
                raise errors.HoldRefused(
                    "hold_limit_reached",
                    f"You already have {MAX_HOLDS} holds, the most allowed at once.",
                )
            db.execute(
                "INSERT INTO holds (patron_id, record_id, pickup_branch, status, placed_on) "
                "VALUES (?, ?, ?, 'waiting', ?)",
                (patron_id, record.record_id, branch, self._today().isoformat()),
            )
            return read_holds(db, self._catalog, patron_id)[-1]

        hold = await self._transact(place)
        logger.info("Hold %s placed for %s on %s", hold.hold_id, patron_id, record.record_id)
        where = (
            "it will be lent to you online when it's your turn"
            if branch == "online"
            else f"we'll keep it for you at {_format.BRANCH_NAMES[branch]}"
        )
        message = (
            f"You're number {hold.queue_position} in the queue for “{record.title}” "
            f"({_format.FORMAT_NAMES[record.format]}); {where}."
        )
        return records.HoldPlaced(hold=hold, message=message)

    # -- fines ----------------------------------------------------------------

    async def fines(self, patron_id: str) -> records.FineSummary:
        """Summarise the reader's charges; see `LibrarySystem.fines`."""
        rows = await self._read(
            patron_id,
            lambda db: db.execute(
                "SELECT * FROM fines WHERE patron_id = ? ORDER BY charged_on, seq", (patron_id,)
            ).fetchall(),
        )
        items = tuple(
            records.FineItem(
                description=row["description"],
                amount=Decimal(row["amount"]),
                date=dt.date.fromisoformat(row["charged_on"]),
            )
            for row in rows
        )
        total = sum((item.amount for item in items), Decimal("0.00"))
        return records.FineSummary(
            total=total, currency="GBP", items=items, blocks_borrowing=total >= FINE_LIMIT
        )

    # -- search ---------------------------------------------------------------

    async def search(
        self, query: str, limit: int = 5, format: str | None = None
    ) -> list[records.SearchResult]:
        """Search the catalogue; see `LibrarySystem.search`.

        Words such as "audiobook" or "dvd" in the query prefer that format
        without excluding others; ``format`` excludes others.
        """
        self._check_up()
        return self._index.search(
            query, limit=limit, format=None if format is None else canonical_format(format)
        )
