"""One outbox state machine for everything the library sends to a reader.

Surveys, follow-ups, due-date reminders and librarians' messages are each kept as a
row that says where the message stands, so that nothing is sent twice (two workers, or
the console and the worker, may try at once) and nothing is silently lost. Every such
row goes through the same steps:

1. **Claim** before anything leaves the building: a conditional update from the
   table's *ready* status to ``sending`` (:func:`claim`; only one caller's update
   matches), or, for a table whose unique key is the claim, an insert under that key
   (:func:`insert_once`).
2. **Send** (the caller talks to Rasa; :func:`attempt` turns a Rasa failure into the
   error text to record).
3. **Record** the outcome (:func:`record_outcome`): ``sent``; or, after a failure,
   back to the ready status with the error, and the table's give-up status once
   ``max_attempts`` attempts have failed. A row that cannot be sent at all (the reader
   has no reachable channel) is settled at once with :func:`settle`. A row claimed by
   its insert is marked with :func:`mark_sent`, or deleted to release the claim.

A table with a ``next_attempt_at`` column may wait between attempts: with a ``backoff``
(:func:`exponential_backoff`), a failed row is ready again only at ``current +
backoff(attempts)``, and with ``expires`` a row past its ``expires_at`` gives up instead
(the email outbox, issue 18).

A row left ``sending`` by a process that died mid-attempt is *stale*. With a
``claim_timeout`` it may be claimed again once its ``claimed_at`` is that old
(:func:`claimable`); a table without ``claimed_at`` puts its stale rows back to the
ready status with :func:`release_stale`.

Status names are the tables' own (``scheduled``/``pending``, ``sending``, ``sent``,
``undeliverable``/``failed``); :class:`Outbox` says which is which for one table.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, wait_exponential

from messaging.rasa_client import RasaError

__all__ = [
    "NO_CHANNEL",
    "SENDING",
    "SENT",
    "Outbox",
    "SendCounts",
    "attempt",
    "claim",
    "claimable",
    "exponential_backoff",
    "insert_once",
    "mark_sent",
    "record_outcome",
    "release_stale",
    "settle",
]

logger = logging.getLogger(__name__)

SENDING = "sending"
SENT = "sent"
NO_CHANNEL = "the reader has no reachable channel"
"""``last_error`` of a row settled as undeliverable because the reader cannot be reached."""


@dataclass(frozen=True)
class Outbox:
    """How one table plays the outbox state machine.

    Attributes:
        model: The mapped class; it has ``id``, ``status``, ``last_error`` and
            ``sent_at`` columns, ``claimed_at`` when ``claim_timeout`` is set and
            ``attempts`` when ``count_attempts`` is set.
        ready: The status of a row waiting for (another) attempt.
        gave_up: The status of a row whose ``max_attempts`` attempts all failed.
        max_attempts: How many failed attempts make the row give up; None: never.
        error_chars: How much of an error's text is kept in ``last_error``.
        claim_timeout: A ``sending`` row claimed longer ago than this may be claimed
            again (its sender died); None: only ready rows are claimed.
        count_attempts: Whether ``attempts`` goes up when a row is claimed or when
            its outcome is recorded; None: the table does not count.
        backoff: After a failed attempt, how long the row waits (given the attempts
            so far) before it is due again, in its ``next_attempt_at``; None: at once.
        expires: Whether a row past its ``expires_at`` gives up instead of waiting.
    """

    model: Any
    ready: str
    gave_up: str
    max_attempts: int | None = None
    error_chars: int = 500
    claim_timeout: timedelta | None = None
    count_attempts: Literal["claim", "outcome"] | None = None
    backoff: Callable[[int], timedelta] | None = None
    expires: bool = False


def exponential_backoff(first: timedelta, most: timedelta) -> Callable[[int], timedelta]:
    """Waits of ``first``, twice that, four times... but never more than ``most``.

    The waits are tenacity's ``wait_exponential``, applied to a row's attempt count.
    """
    wait = wait_exponential(multiplier=first.total_seconds(), max=most.total_seconds())

    def after(attempts: int) -> timedelta:
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = max(1, attempts)
        return timedelta(seconds=float(wait(state)))

    return after


@dataclass
class SendCounts:
    """How many rows a run sent, left for a retry, and gave up on."""

    sent: int = 0
    failed: int = 0
    undeliverable: int = 0


def claimable(box: Outbox, current: datetime, ready_when: Any = None) -> Any:
    """The SQL condition of a row that may be claimed at ``current``.

    ``ready_when`` (a SQL condition, such as "scheduled for now or earlier") narrows
    the ready rows; a stale ``sending`` row is claimable whatever it says.
    """
    table = box.model
    condition = table.status == box.ready
    if ready_when is not None:
        condition = condition & ready_when
    if box.claim_timeout is not None:
        stale = (table.status == SENDING) & (table.claimed_at < current - box.claim_timeout)
        condition = condition | stale
    return condition


def claim(session: Session, box: Outbox, row_id: int, current: datetime) -> bool:
    """Take the row for this caller (ready, or stale, → ``sending``); False if taken."""
    table = box.model
    values: dict[str, Any] = {"status": SENDING}
    if box.claim_timeout is not None:
        values["claimed_at"] = current
    if box.count_attempts == "claim":
        values["attempts"] = table.attempts + 1
    result = session.execute(
        update(table)
        .where(table.id == row_id, claimable(box, current))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


def settle(
    session: Session,
    box: Outbox,
    row_id: int,
    status: str,
    reason: str,
    *,
    only_from: str | None = None,
) -> int:
    """Give the row a final ``status`` and say why; returns 1, or 0 when not ``only_from``."""
    table = box.model
    query = update(table).where(table.id == row_id)
    if only_from is not None:
        query = query.where(table.status == only_from)
    result = session.execute(
        query.values(status=status, last_error=reason).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def record_outcome(row: Any, box: Outbox, error: str | None, current: datetime) -> str:
    """Record one attempt on a claimed ``row``; returns its new status.

    Sent: ``sent`` at ``current``, no error. Failed: the error is kept and the row is
    ready again, or ``gave_up`` once ``max_attempts`` attempts have failed.
    """
    if box.count_attempts == "outcome":
        row.attempts = int(row.attempts or 0) + 1
    if error is None:
        return mark_sent(row, current)
    row.last_error = error[: box.error_chars]
    spent = box.max_attempts is not None and int(row.attempts or 0) >= box.max_attempts
    if box.expires and current >= row.expires_at:
        spent = True
    row.status = box.gave_up if spent else box.ready
    if box.backoff is not None and not spent:
        row.next_attempt_at = current + box.backoff(int(row.attempts or 0))
    return str(row.status)


def mark_sent(row: Any, current: datetime) -> str:
    """Record that ``row`` went out at ``current``; returns ``sent``."""
    row.status = SENT
    row.sent_at = current
    row.last_error = None
    return SENT


def release_stale(session: Session, box: Outbox, started: Any, before: datetime) -> int:
    """Make ``sending`` rows whose ``started`` column is before ``before`` ready again."""
    table = box.model
    result = session.execute(
        update(table)
        .where(table.status == SENDING, started < before)
        .values(status=box.ready)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def insert_once(session: Session, row: object) -> bool:
    """Insert ``row`` unless its unique key is taken; True when this caller inserted it.

    The insert runs in a savepoint, so the loser of a race (another worker, or an
    earlier run) keeps its transaction and simply gets False.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


async def attempt(send: Awaitable[object], what: str) -> str | None:
    """Await one send; returns the Rasa error's text (logged) or None when it went out."""
    try:
        await send
    except RasaError as error:
        logger.warning("%s not sent yet: %s", what, error)
        return str(error)
    return None
