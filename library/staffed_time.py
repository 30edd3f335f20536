"""Time counted in staffed chat hours only (for the first response after a handoff).

A reader who asks for a librarian at 18:55 on a Friday, when the chat closes at
17:00, and gets an answer at 09:05 on Monday waited five minutes of staffed time, not
three days. The staffed hours are the library profile's ``chat_hours`` (local time of
the profile's timezone); a holiday closure that applies to every branch closes the
chat for the day, and an early closing that applies to every branch ends it early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from library.profile import LibraryProfile, OpeningTimes, load_profile

MAX_DAYS = 400  # a handoff answered more than a year later counts only this far


@dataclass(frozen=True)
class StaffedHours:
    """Weekly staffed chat hours and the days they do not apply.

    Attributes:
        tz: The library's timezone; the hours are local times there.
        weekly: Opening times per weekday (0 = Monday); None when the chat is unstaffed.
        closed_days: Dates on which the chat is unstaffed all day.
        early_close: Dates on which the chat closes early, and when.
    """

    tz: tzinfo
    weekly: Sequence[OpeningTimes | None]
    closed_days: frozenset[date] = frozenset()
    early_close: tuple[tuple[date, time], ...] = ()

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The staffed interval of one local day as aware datetimes, or None."""
        if day in self.closed_days:
            return None
        hours = self.weekly[day.weekday()]
        if hours is None:
            return None
        close = hours.close
        for early_day, early_time in self.early_close:
            if early_day == day and early_time < close:
                close = early_time
        start = datetime.combine(day, hours.open, tzinfo=self.tz)
        end = datetime.combine(day, close, tzinfo=self.tz)
        return (start, end) if end > start else None


def staffed_hours_from_profile(profile: LibraryProfile | None = None) -> StaffedHours:
    """The staffed chat hours of the library profile (``bot/library_profile.yml``)."""
    profile = profile or load_profile()
    branches = set(profile.branch_ids)
    closed: set[date] = set()
    early: list[tuple[date, time]] = []
    for closure in profile.closures:
        if not branches <= set(closure.branches):
            continue  # one branch closed: the chat is still staffed from the others
        if closure.type == "closed":
            closed.add(closure.date)
        elif closure.close is not None:
            early.append((closure.date, closure.close))
    return StaffedHours(profile.tz, tuple(profile.chat_hours), frozenset(closed), tuple(early))


def staffed_seconds(hours: StaffedHours, start: datetime, end: datetime) -> float:
    """Seconds between ``start`` and ``end`` that fall inside staffed hours.

    Args:
        hours: The staffed hours.
        start: The beginning (aware).
        end: The end (aware); an end before the start counts as zero.

    Returns:
        The staffed seconds, 0.0 when the interval lies wholly outside staffed hours.
    """
    if end <= start:
        return 0.0
    total = 0.0
    day = start.astimezone(hours.tz).date()
    last = end.astimezone(hours.tz).date()
    for _ in range(MAX_DAYS):
        if day > last:
            break
        window = hours.window(day)
        if window is not None:
            lo = max(window[0], start)
            hi = min(window[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total
