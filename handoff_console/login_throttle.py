"""Login throttling per (account, client address), with exponential delay.

A hard lock on an account lets anyone lock out any librarian (or every one of them,
behind a proxy that gives all clients one address) by typing wrong passwords. So
failures are counted per *pair* of user name and client address, and they never
lock anything: after the ``n``-th consecutive failure of a pair, that pair must wait
``2 ** (n - FREE_FAILURES)`` seconds (at most ``MAX_DELAY``) before its next attempt
is even checked. Attempts during the wait are answered 429 with ``Retry-After`` and
are not recorded, so waiting always works. The right password from another address
is never affected, nor, after the wait, from the same one.

Failures count from the pair's last success and within ``WINDOW``. The attempts live
in ``login_attempts``, so every console process sees the same counts and a restart
forgets nothing. The time is :func:`crm_store.clock.now`, so tests can move it.

An admin lifts a throttle with :func:`clear` (``POST /api/login-throttles/clear``
or ``python -m handoff_console.admin clear-login-throttle``); each clearance is an
audit entry ``login_throttle.clear``.

The `limits` package would be the house choice for rate limits, but it is not in
the environment and its storages (memory, Redis, Memcached, MongoDB) do not share
state through the reader store; an exponential back-off per pair is also not one of
its fixed or moving windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import AuditEntry, LoginAttempt

__all__ = [
    "CLEAR_ACTION",
    "FREE_FAILURES",
    "MAX_DELAY",
    "WINDOW",
    "Throttle",
    "clear",
    "delay_after",
    "normalise_address",
    "normalise_username",
    "state",
    "throttles",
]

FREE_FAILURES = 3
"""Failures of a pair before the first wait: the 3rd failure waits 1 s, the 4th 2 s, …"""
MAX_DELAY = timedelta(minutes=15)
"""The longest wait; reached at the 13th consecutive failure (2**10 s > 15 min)."""
WINDOW = timedelta(hours=24)
"""Failures older than this no longer count."""
CLEAR_ACTION = "login_throttle.clear"
"""The audit action of an admin lifting a throttle."""

USERNAME_CHARS = 80  # login_attempts.username
ADDRESS_CHARS = 64  # login_attempts.remote_addr


@dataclass(frozen=True)
class Throttle:
    """The failures of one (user name, address) pair and the wait they impose.

    Attributes:
        username: The user name as compared (lower case), known or not.
        address: The client address.
        failures: Consecutive failures since the pair's last success, within ``WINDOW``.
        last_failure_at: When the latest of them happened.
        retry_at: When the pair may try again (``last_failure_at`` plus the delay).
    """

    username: str
    address: str
    failures: int
    last_failure_at: datetime
    retry_at: datetime

    def retry_after_seconds(self, now: datetime) -> int:
        """Whole seconds until the pair may try again; 0 when it may try now."""
        remaining = (self.retry_at - now).total_seconds()
        return max(0, math.ceil(remaining))


def normalise_username(username: str) -> str:
    """The user name as stored in ``login_attempts``: stripped, lower case, bounded."""
    return username.strip().lower()[:USERNAME_CHARS]


def normalise_address(address: str | None) -> str:
    """The client address as stored in ``login_attempts`` (``unknown`` when absent)."""
    return (address or "unknown")[:ADDRESS_CHARS]


def delay_after(failures: int) -> timedelta:
    """The wait imposed after ``failures`` consecutive failures of one pair.

    Args:
        failures: How many consecutive failures the pair has.

    Returns:
        Nothing below ``FREE_FAILURES``, then ``2 ** (failures - FREE_FAILURES)``
        seconds, at most ``MAX_DELAY``.
    """
    if failures < FREE_FAILURES:
        return timedelta(0)
    exponent = failures - FREE_FAILURES
    if exponent >= 30:  # 2**30 s is decades; avoid building huge integers
        return MAX_DELAY
    return min(timedelta(seconds=2**exponent), MAX_DELAY)


def state(session: Session, username: str, address: str) -> Throttle | None:
    """The throttle of one pair, or None when it has no failures that count.

    Args:
        session: The caller's session.
        username: Normalised with :func:`normalise_username`.
        address: Normalised with :func:`normalise_address`.
    """
    now = clock.now()
    last_success = session.execute(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.username == username,
            LoginAttempt.remote_addr == address,
            LoginAttempt.succeeded.is_(True),
        )
    ).scalar_one()
    since = now - WINDOW
    if last_success is not None and last_success > since:
        since = last_success
    count, latest = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.username == username,
            LoginAttempt.remote_addr == address,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at > since,
        )
    ).one()
    if not count or latest is None:
        return None
    failures = int(count)
    return Throttle(username, address, failures, latest, latest + delay_after(failures))


def throttles(session: Session) -> list[Throttle]:
    """Every pair with failures that count, longest wait first.

    A pair is listed while it has failures within ``WINDOW`` since its last success,
    even when its wait is over (its next failure would wait longer).
    """
    since = clock.now() - WINDOW
    pairs = session.execute(
        select(LoginAttempt.username, LoginAttempt.remote_addr)
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
        .group_by(LoginAttempt.username, LoginAttempt.remote_addr)
    ).all()
    found = [state(session, str(name), str(address)) for name, address in pairs]
    listed = [throttle for throttle in found if throttle is not None]
    return sorted(listed, key=lambda t: (t.retry_at, t.username, t.address), reverse=True)


def clear(
    session: Session,
    username: str,
    address: str | None = None,
    *,
    actor_id: int | None,
    via: str,
) -> tuple[int, int]:
    """Lift the throttle of a user name, from one address or from every address.

    The pair's recorded failures are deleted (successes stay), so its next attempt is
    checked at once and its count starts again. The clearance is audited, with how
    many failures were removed, even when there were none.

    Args:
        session: The caller's session; the caller commits.
        username: The user name (normalised here).
        address: Only this client address; None for every address.
        actor_id: The admin's ``staff_users.id``; None from the command line.
        via: ``api`` or ``cli``, recorded in the audit entry.

    Returns:
        ``(failures removed, audit entry id)``.
    """
    name = normalise_username(username)
    statement = delete(LoginAttempt).where(
        LoginAttempt.username == name, LoginAttempt.succeeded.is_(False)
    )
    where = normalise_address(address) if address is not None else None
    if where is not None:
        statement = statement.where(LoginAttempt.remote_addr == where)
    removed = int(session.execute(statement).rowcount or 0)
    entry = AuditEntry(
        staff_user_id=actor_id,
        action=CLEAR_ACTION,
        subject=f"login:{name}"[:120],
        detail={"address": where, "failures_removed": removed, "via": via},
    )
    session.add(entry)
    session.flush()
    return removed, int(entry.id)
