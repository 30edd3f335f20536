"""Opening hours from the library profile: one branch's day, the next opening, the usual week.

Pure functions of the profile (weekly hours, holiday closures, early closings) and a
local date or time; the assistant's replies to an hours question are built from them
in ``actions.hours``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from library.profile import WEEKDAYS, LibraryProfile

__all__ = [
    "LOOKAHEAD_DAYS",
    "RANGE_DASH",
    "DaySchedule",
    "clock_time",
    "day_schedule",
    "detect_branches",
    "long_date",
    "next_opening",
    "resolve_branch",
    "weekly_summary",
]

LOOKAHEAD_DAYS = 14
"""How far ahead :func:`next_opening` looks."""
RANGE_DASH = "\N{EN DASH}"
"""The typographic dash (an en dash) between two times, as in "9:00-17:00"."""
_SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class DaySchedule:
    """One branch's opening hours on one day.

    Attributes:
        branch_id: The branch.
        day: The date.
        open: Opening time (local), or ``None`` when closed all day.
        close: Closing time (local), or ``None`` when closed all day.
        reason: Why it is closed: the holiday name (e.g. "Christmas Day") or
            "closed on Sundays"; ``None`` when open.
        holiday: Name of the closure or early closing that applies, if any.
        note: Note on an early closing, e.g. "early closing for Christmas Eve".
    """

    branch_id: str
    day: date
    open: time | None
    close: time | None
    reason: str | None = None
    holiday: str | None = None
    note: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the branch opens at all that day."""
        return self.open is not None and self.close is not None

    def closed_text(self) -> str:
        """Say why the branch is closed, e.g. "closed for Christmas Day"."""
        if self.holiday is not None:
            return f"closed for {self.holiday}"
        return self.reason or "closed"

    def hours_text(self) -> str:
        """Say the day's hours, e.g. "open 9:00-14:00 (early closing for Christmas Eve)"."""
        if self.open is None or self.close is None:
            return self.closed_text()
        text = f"open {clock_time(self.open)}{RANGE_DASH}{clock_time(self.close)}"
        return f"{text} ({self.note})" if self.note else text


def clock_time(value: time) -> str:
    """A time as the replies write it: "9:00", "17:30"."""
    return f"{value.hour}:{value.minute:02d}"


def long_date(day: date) -> str:
    """A date as the replies write it: "Monday 7 December"."""
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} {day:%B}"


def day_schedule(profile: LibraryProfile, branch_id: str, day: date) -> DaySchedule:
    """Return a branch's opening hours on a date, with holidays and early closings applied.

    Args:
        profile: The library profile.
        branch_id: A branch id from the profile.
        day: The local date.

    Returns:
        The day's schedule.

    Raises:
        KeyError: The branch does not exist.
    """
    branch = profile.branch(branch_id)
    closures = profile.closures_on(day, branch_id)
    for closure in closures:
        if closure.type == "closed":
            return DaySchedule(branch_id, day, None, None, closure.name, closure.name)
    regular = branch.hours[day.weekday()]
    if regular is None:
        weekday = WEEKDAYS[day.weekday()].capitalize()
        return DaySchedule(branch_id, day, None, None, f"closed on {weekday}s")
    close = regular.close
    for closure in closures:
        if closure.close is not None and closure.close < close:
            if closure.close <= regular.open:
                return DaySchedule(branch_id, day, None, None, closure.name, closure.name)
            return DaySchedule(
                branch_id,
                day,
                regular.open,
                closure.close,
                holiday=closure.name,
                note=f"early closing for {closure.name}",
            )
    return DaySchedule(branch_id, day, regular.open, close)


# --------------------------------------------------------------------------- branches


def _alias_pattern(alias: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in alias.split())
    return re.compile(rf"(?<![\w-]){words}(?![\w-])")


def detect_branches(profile: LibraryProfile, text: str) -> list[str]:
    """Return the ids of the branches a message names, in profile order.

    Matches the branch id, name, short name and the profile's aliases as whole
    words, ignoring case.
    """
    lowered = text.lower().replace("\u2019", "'")
    found: list[str] = []
    for branch in profile.branches:
        names = {branch.id, branch.name.lower(), branch.short_name.lower(), *branch.aliases}
        if any(_alias_pattern(name).search(lowered) for name in names):
            found.append(branch.id)
    return found


def resolve_branch(profile: LibraryProfile, value: str | None) -> str | None:
    """Map an entity or slot value ("central", "main library") to a branch id."""
    if not value:
        return None
    if value in profile.branch_ids:
        return value
    found = detect_branches(profile, value)
    return found[0] if len(found) == 1 else None


def next_opening(
    profile: LibraryProfile, branch_id: str, after: datetime
) -> tuple[date, time] | None:
    """The first opening (date, time) of a branch after ``after``, within ``LOOKAHEAD_DAYS``."""
    today = after.date()
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        schedule = day_schedule(profile, branch_id, day)
        if schedule.open is None:
            continue
        if offset == 0 and schedule.open <= after.time():
            continue
        return day, schedule.open
    return None


def _weekly_runs(hours: Sequence[Any]) -> list[str]:
    runs: list[tuple[int, int, Any]] = []
    for index, value in enumerate(hours):
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], index, value)
        else:
            runs.append((index, index, value))
    parts = []
    for first, last, value in runs:
        days = _SHORT_WEEKDAYS[first]
        if last > first:
            days = f"{days}{RANGE_DASH}{_SHORT_WEEKDAYS[last]}"
        if value is None:
            parts.append(f"{days} closed")
        else:
            parts.append(f"{days} {clock_time(value.open)}{RANGE_DASH}{clock_time(value.close)}")
    return parts


def weekly_summary(profile: LibraryProfile, branch_ids: Sequence[str]) -> str:
    """One line with the usual weekly hours of the given branches."""
    parts = [
        f"{profile.branch(b).short_name} {', '.join(_weekly_runs(profile.branch(b).hours))}"
        for b in branch_ids
    ]
    return "Usual hours: " + "; ".join(parts) + "."
