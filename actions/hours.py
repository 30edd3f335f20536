"""The reply to an opening-hours question, and the action server's clock.

:func:`hours_answer` is a pure function of the library profile and a ``now``; it
builds on the schedules of :mod:`library.hours` (a branch's day, the next opening,
the usual week). :class:`ActionLibraryHours` wires it to Rasa. Its clock, shared by
every action, is the module-level :data:`clock`: the store's clock
(:func:`crm_store.clock.now`, which tests can install) or the action server's test
clock file, in the library's timezone; unit tests replace :data:`clock` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.types import DomainDict

from actions._common import Dispatcher, Events, Named, profile_or_apology
from actions._dates import parse_days
from crm_store import clock as store_clock
from library.hours import (
    LOOKAHEAD_DAYS,
    RANGE_DASH,
    clock_time,
    day_schedule,
    detect_branches,
    long_date,
    next_opening,
    resolve_branch,
    weekly_summary,
)
from library.profile import WEEKDAYS, LibraryProfile
from ric_config import StoreConfig

__all__ = [
    "HOURS_UNAVAILABLE",
    "ActionLibraryHours",
    "clock",
    "hours_answer",
    "test_clock_time",
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
    return (test_clock_time() or store_clock.now()).astimezone(tz)


#: Returns the current time in the given timezone (the test clock when set); tests
#: of the actions replace it.
clock: Callable[[ZoneInfo], datetime] = _now

#: Within this many minutes of closing, say "closing in N minutes".
CLOSING_SOON_MINUTES = 60

HOURS_UNAVAILABLE = (
    "Sorry, I can't look up our opening hours right now. "
    "Please check the library website or call us."
)


# --------------------------------------------------------------------------- replies


def _day_label(day: date, today: date) -> str:
    if day == today:
        return f"Today, {long_date(day)}"
    if day == today + timedelta(days=1):
        return f"Tomorrow, {long_date(day)}"
    return long_date(day)


def _day_phrase(day: date, today: date) -> str:
    """The day as it reads in a sentence: "today", "tomorrow", "on Monday 7 December"."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"on {long_date(day)}"


def _next_opening_text(profile: LibraryProfile, branch_id: str, now: datetime) -> str:
    found = next_opening(profile, branch_id, now)
    if found is None:
        return f"not open in the next {LOOKAHEAD_DAYS} days"
    day, opens = found
    today = now.date()
    if day == today:
        when = "later today"
    elif day == today + timedelta(days=1):
        when = "tomorrow"
    elif day - today < timedelta(days=7):
        when = WEEKDAYS[day.weekday()].capitalize()
    else:
        when = long_date(day)
    return f"{when} at {clock_time(opens)}"


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
            f"closed now and opens today at {clock_time(schedule.open)} "
            f"(today {clock_time(schedule.open)}{RANGE_DASH}{clock_time(schedule.close)}{note})"
        )
    if current >= schedule.close:
        return (
            f"closed now (today it was open {clock_time(schedule.open)}{RANGE_DASH}"
            f"{clock_time(schedule.close)}{note}); it next opens "
            f"{_next_opening_text(profile, branch_id, now)}"
        )
    close_at = datetime.combine(now.date(), schedule.close, tzinfo=now.tzinfo)
    minutes = int((close_at - now.replace(second=0, microsecond=0)).total_seconds() // 60)
    if minutes <= CLOSING_SOON_MINUTES:
        unit = "minute" if minutes == 1 else "minutes"
        return f"open now and closing in {minutes} {unit} (at {clock_time(schedule.close)}{note})"
    return (
        f"open now until {clock_time(schedule.close)} "
        f"(today {clock_time(schedule.open)}{RANGE_DASH}{clock_time(schedule.close)}{note})"
    )


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
        profile = profile_or_apology(dispatcher, HOURS_UNAVAILABLE)
        if profile is not None:
            now = clock(profile.tz)
            answer = hours_answer(profile, text, now, str(branch) if branch else None)
            dispatcher.utter_message(text=answer)
        return []
