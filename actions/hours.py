"""Opening hours: what a branch's day looks like, and the reply to an hours question.

The pure functions :func:`day_schedule` and :func:`hours_answer` work from the
library profile (weekly hours, holiday closures, early closings) and a ``now`` in
the library's timezone. :class:`ActionLibraryHours` wires them to Rasa; its clock
is the module-level :data:`clock`, which tests replace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.types import DomainDict

from actions._common import Dispatcher, Events, Named
from actions._dates import parse_days
from library.profile import WEEKDAYS, LibraryProfile, ProfileError, load_profile
from ric_config import StoreConfig

__all__ = [
    "ActionLibraryHours",
    "DaySchedule",
    "clock",
    "day_schedule",
    "detect_branches",
    "hours_answer",
    "resolve_branch",
    "test_clock_time",
    "weekly_summary",
]

logger = logging.getLogger(__name__)

TEST_CLOCK_FILE = "test_clock"
"""A file in ``$RIC_VAR_DIR`` holding an ISO-8601 time: the action server's test clock."""


def test_clock_time() -> datetime | None:
    """The time set in ``$RIC_VAR_DIR/test_clock``, or None when there is no test clock.

    End-to-end tests write the file to try the assistant at a chosen time (for example
    outside staffed chat hours) without restarting the action server; an unreadable
    or naive time is ignored (and logged).
    """
    path = Path(StoreConfig().var_dir or "var") / TEST_CLOCK_FILE
    try:
        raw = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        logger.warning("ignoring the test clock %s: not an ISO-8601 time", path)
        return None
    if when.tzinfo is None:
        logger.warning("ignoring the test clock %s: the time has no timezone", path)
        return None
    return when


def _now(tz: ZoneInfo) -> datetime:
    return (test_clock_time() or datetime.now(timezone.utc)).astimezone(tz)


#: Returns the current time in the given timezone (the test clock when set); tests
#: of the actions replace it.
clock: Callable[[ZoneInfo], datetime] = _now

#: Within this many minutes of closing, say "closing in N minutes".
CLOSING_SOON_MINUTES = 60
_LOOKAHEAD_DAYS = 14
_DASH = "\N{EN DASH}"  # typographic range dash between two times
_SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

HOURS_UNAVAILABLE = (
    "Sorry, I can't look up our opening hours right now. "
    "Please check the library website or call us."
)


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
        text = f"open {_clock_time(self.open)}{_DASH}{_clock_time(self.close)}"
        return f"{text} ({self.note})" if self.note else text


def _clock_time(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}"


def _long_date(day: date) -> str:
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


# --------------------------------------------------------------------------- replies


def _day_label(day: date, today: date) -> str:
    if day == today:
        return f"Today, {_long_date(day)}"
    if day == today + timedelta(days=1):
        return f"Tomorrow, {_long_date(day)}"
    return _long_date(day)


def _day_phrase(day: date, today: date) -> str:
    """The day as it reads in a sentence: "today", "tomorrow", "on Monday 7 December"."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"on {_long_date(day)}"


def _next_opening(
    profile: LibraryProfile, branch_id: str, after: datetime
) -> tuple[date, time] | None:
    today = after.date()
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        schedule = day_schedule(profile, branch_id, day)
        if schedule.open is None:
            continue
        if offset == 0 and schedule.open <= after.time():
            continue
        return day, schedule.open
    return None


def _next_opening_text(profile: LibraryProfile, branch_id: str, now: datetime) -> str:
    found = _next_opening(profile, branch_id, now)
    if found is None:
        return f"not open in the next {_LOOKAHEAD_DAYS} days"
    day, opens = found
    today = now.date()
    if day == today:
        when = "later today"
    elif day == today + timedelta(days=1):
        when = "tomorrow"
    elif day - today < timedelta(days=7):
        when = WEEKDAYS[day.weekday()].capitalize()
    else:
        when = _long_date(day)
    return f"{when} at {_clock_time(opens)}"


def _status_now(profile: LibraryProfile, branch_id: str, now: datetime) -> str:
    """Today's status of one branch at ``now``, as a phrase that follows "Central is"."""
    schedule = day_schedule(profile, branch_id, now.date())
    note = f"; {schedule.note}" if schedule.note else ""
    if schedule.open is None or schedule.close is None:
        closed = schedule.closed_text()
        if schedule.holiday is not None:
            closed = f"closed today for {schedule.holiday}"
        return f"{closed}; it next opens {_next_opening_text(profile, branch_id, now)}"
    current = now.time().replace(tzinfo=None)
    if current < schedule.open:
        return (
            f"closed now and opens today at {_clock_time(schedule.open)} "
            f"(today {_clock_time(schedule.open)}{_DASH}{_clock_time(schedule.close)}{note})"
        )
    if current >= schedule.close:
        return (
            f"closed now (today it was open {_clock_time(schedule.open)}{_DASH}"
            f"{_clock_time(schedule.close)}{note}); it next opens "
            f"{_next_opening_text(profile, branch_id, now)}"
        )
    close_at = datetime.combine(now.date(), schedule.close, tzinfo=now.tzinfo)
    minutes = int((close_at - now.replace(second=0, microsecond=0)).total_seconds() // 60)
    if minutes <= CLOSING_SOON_MINUTES:
        unit = "minute" if minutes == 1 else "minutes"
        return f"open now and closing in {minutes} {unit} (at {_clock_time(schedule.close)}{note})"
    return (
        f"open now until {_clock_time(schedule.close)} "
        f"(today {_clock_time(schedule.open)}{_DASH}{_clock_time(schedule.close)}{note})"
    )


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
            days = f"{days}{_DASH}{_SHORT_WEEKDAYS[last]}"
        if value is None:
            parts.append(f"{days} closed")
        else:
            parts.append(f"{days} {_clock_time(value.open)}{_DASH}{_clock_time(value.close)}")
    return parts


def weekly_summary(profile: LibraryProfile, branch_ids: Sequence[str]) -> str:
    """One line with the usual weekly hours of the given branches."""
    parts = [
        f"{profile.branch(b).short_name} {', '.join(_weekly_runs(profile.branch(b).hours))}"
        for b in branch_ids
    ]
    return "Usual hours: " + "; ".join(parts) + "."


def _alternatives(
    profile: LibraryProfile, day: date, today: date, exclude: Sequence[str]
) -> str | None:
    open_elsewhere = [day_schedule(profile, b, day) for b in profile.branch_ids if b not in exclude]
    open_elsewhere = [s for s in open_elsewhere if s.is_open]
    if not open_elsewhere:
        return f"Our other branches are closed {_day_phrase(day, today)} too."
    names = [f"{profile.branch(s.branch_id).short_name} ({s.hours_text()})" for s in open_elsewhere]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "is" if len(names) == 1 else "are"
    return f"{joined} {verb} open {_day_phrase(day, today)}."


def _answer_for_day(
    profile: LibraryProfile, branch_ids: Sequence[str], day: date, now: datetime
) -> str:
    today = now.date()
    if len(branch_ids) == 1:
        branch_id = branch_ids[0]
        name = profile.branch(branch_id).short_name
        schedule = day_schedule(profile, branch_id, day)
        if day == today:
            sentence = f"{name} is {_status_now(profile, branch_id, now)}."
        elif schedule.is_open:
            when = _day_phrase(day, today)
            sentence = f"{when[0].upper()}{when[1:]}, {name} is {schedule.hours_text()}."
        elif schedule.holiday is not None:
            sentence = f"{name} is closed {_day_phrase(day, today)} ({schedule.holiday})."
        else:
            sentence = f"{name} is {schedule.closed_text()}."
        if schedule.is_open:
            return sentence
        return f"{sentence} {_alternatives(profile, day, today, branch_ids)}"

    schedules = [day_schedule(profile, b, day) for b in branch_ids]
    holidays = {s.holiday for s in schedules}
    all_closed = not any(s.is_open for s in schedules)
    if day != today and all_closed and len(holidays) == 1 and None not in holidays:
        return f"All our branches are closed {_day_phrase(day, today)} ({holidays.pop()})."
    lines = [f"{_day_label(day, today)}:"]
    for schedule in schedules:
        name = profile.branch(schedule.branch_id).short_name
        if day == today:
            lines.append(f"- {name} is {_status_now(profile, schedule.branch_id, now)}.")
        else:
            lines.append(f"- {name}: {schedule.hours_text()}")
    return "\n".join(lines)


def hours_answer(
    profile: LibraryProfile, text: str, now: datetime, branch_id: str | None = None
) -> str:
    """Answer an opening-hours question for the day(s) it asks about.

    Args:
        profile: The library profile.
        text: The reader's message, e.g. "is Northside open Sunday?".
        now: The current time; must be timezone-aware (converted to the library's zone).
        branch_id: The branch from the NLU entity or slot, if any; otherwise the
            branches named in ``text``, or all branches.

    Returns:
        The reply. Without a day in ``text`` it gives today's hours for the
        branch(es) and a one-line weekly summary.

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    now = now.astimezone(profile.tz)
    resolved = resolve_branch(profile, branch_id)
    branch_ids = [resolved] if resolved else detect_branches(profile, text)
    if not branch_ids:
        branch_ids = list(profile.branch_ids)
    days = parse_days(text, now)
    if not days:
        today = _answer_for_day(profile, branch_ids, now.date(), now)
        return f"{today}\n{weekly_summary(profile, branch_ids)}"
    return "\n\n".join(_answer_for_day(profile, branch_ids, day, now) for day in days)


# --------------------------------------------------------------------------- action


class ActionLibraryHours(Named, Action, name="action_library_hours"):
    """Answer "when are you open?" for the day and branch the reader asks about."""

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict) -> Events:
        """Reply with the opening hours for the latest message."""
        text = str(tracker.latest_message.get("text") or "")
        branch = next(tracker.get_latest_entity_values("branch"), None) or tracker.get_slot(
            "branch"
        )
        try:
            profile = load_profile()
        except ProfileError:
            logger.exception("cannot load the library profile")
            dispatcher.utter_message(text=HOURS_UNAVAILABLE)
            return []
        now = clock(profile.tz)
        dispatcher.utter_message(
            text=hours_answer(profile, text, now, str(branch) if branch else None)
        )
        return []
