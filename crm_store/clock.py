"""The worker's notion of "now", injectable so that tests can travel in time.

Jobs never call ``datetime.now()`` themselves; they call :func:`now`, which asks the
installed clock. Production uses :class:`SystemClock`; tests install a
:class:`TravelClock` and move it forward with :meth:`TravelClock.advance`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Anything that can say what time it is, as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time (timezone-aware, UTC)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(timezone.utc)


class TravelClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("TravelClock needs a timezone-aware start time")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("TravelClock.set needs a timezone-aware time")
        with self._lock:
            self._now = when.astimezone(timezone.utc)


_clock: Clock = SystemClock()


def install(clock: Clock) -> Clock:
    """Make ``clock`` the clock every job uses; return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> datetime:
    """Return the installed clock's current time."""
    return _clock.now()
