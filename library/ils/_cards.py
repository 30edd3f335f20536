"""The demo adapter's wrong-PIN counters and card locks (private to the package).

Each function works inside a transaction of the state store (``_store``); a wrong
PIN is counted even when the caller then raises, because the store commits on a
`LibrarySystemError`.
"""

from __future__ import annotations

import sqlite3

from library.ils.errors import CardLocked

__all__ = ["is_locked", "record_pin_attempt", "unlock"]


def is_locked(db: sqlite3.Connection, card: str) -> bool:
    """Whether ``card`` is locked (an unknown card is not)."""
    row = db.execute("SELECT locked FROM cards WHERE card_number = ?", (card,)).fetchone()
    return bool(row and row["locked"])


def record_pin_attempt(db: sqlite3.Connection, card: str, success: bool, max_failed: int) -> int:
    """Count one PIN attempt on ``card``; return how many wrong PINs are left before the lock.

    A right PIN clears the count (and returns ``max_failed``); the ``max_failed``-th
    wrong one in a row locks the card.

    Raises:
        CardLocked: The card was locked before this attempt.
    """
    if is_locked(db, card):
        raise CardLocked(card[-4:])
    if success:
        db.execute("UPDATE cards SET failed_attempts = 0 WHERE card_number = ?", (card,))
        return max_failed
    db.execute(
        "UPDATE cards SET failed_attempts = failed_attempts + 1, "
        "locked = (failed_attempts + 1 >= ?) WHERE card_number = ?",
        (max_failed, card),
    )
    failed = db.execute(
        "SELECT failed_attempts FROM cards WHERE card_number = ?", (card,)
    ).fetchone()["failed_attempts"]
    return max_failed - int(failed)


def unlock(db: sqlite3.Connection, card: str) -> None:
    """Unlock ``card`` and clear its wrong-PIN count."""
    db.execute("UPDATE cards SET failed_attempts = 0, locked = 0 WHERE card_number = ?", (card,))
