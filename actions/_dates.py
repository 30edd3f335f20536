"""Find the day(s) a reader asks about in free text ("tomorrow", "next monday", "24/12").

Everything is relative to ``now``, an aware datetime in the library's timezone.
Dates without a year that have already passed this year roll over to next year.
Numeric dates are read the UK way: ``24/12`` is the 24th of December.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

__all__ = ["mentions_day", "parse_days"]

_WEEKDAY_WORDS: dict[str, int] = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2, "weds": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip

_MONTH_WORDS: dict[str, int] = {
    "january": 1, "jan": 1,
    "february": 2, "feb": 2,
    "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "may": 5,
    "june": 6, "jun": 6,
    "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip

_HOLIDAYS: dict[str, tuple[int, int]] = {
    "christmas eve": (12, 24),
    "christmas day": (12, 25),
    "christmas": (12, 25),
    "xmas eve": (12, 24),
    "xmas day": (12, 25),
    "xmas": (12, 25),
    "boxing day": (12, 26),
    "new year's eve": (12, 31),
    "new years eve": (12, 31),
    "new year eve": (12, 31),
    "nye": (12, 31),
    "new year's day": (1, 1),
    "new years day": (1, 1),
    "new year day": (1, 1),
    "new year's": (1, 1),
    "new years": (1, 1),
    "new year": (1, 1),
}


def _alternation(words: list[str]) -> str:
    # Longest first, so "christmas eve" wins over "christmas".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WEEKDAY = _alternation(list(_WEEKDAY_WORDS))
_MONTH = _alternation(list(_MONTH_WORDS))
_ORD = r"(?:st|nd|rd|th)?"

_TODAY = re.compile(
    r"\b(?:today|tonight|tonite|now|right now|currently|at the moment|this evening"
    r"|this afternoon|this morning)\b"
)
_DAY_AFTER_TOMORROW = re.compile(r"\bday after (?:tomorrow|tmrw|tmr|tomorow)\b")
_TOMORROW = re.compile(r"\b(?:tomorrow|tomorow|tommorow|tommorrow|tmrw|tmr|2moro|2morrow)\b")
_WEEKEND = re.compile(r"\b(this|next)?\s*weekend\b")
_HOLIDAY = re.compile(rf"\b({_alternation(list(_HOLIDAYS))})(?![\w'])")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}}){_ORD}(?:\s+of)?\s+({_MONTH})\b\.?(?:,?\s+(\d{{4}}))?")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(?:the\s+)?(\d{{1,2}}){_ORD}\b(?:,?\s+(\d{{4}}))?")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})\b")
_WEEKDAY_PHRASE = re.compile(rf"\b(?:(this|next|coming)\s+)?({_WEEKDAY})(?:s|'s)?\b")
_ORDINAL_DAY = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b")


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _upcoming(month: int, day: int, year: int | None, today: date) -> date | None:
    """The date with this day and month; without a year the next one from today."""
    if year is not None:
        if year < 100:
            year += 2000
        return _safe_date(year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate is None:
        # 29 February in a non-leap year: try the following years.
        for offset in range(1, 5):
            candidate = _safe_date(today.year + offset, month, day)
            if candidate is not None:
                return candidate
        return None
    if candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_date(qualifier: str | None, weekday: int, today: date) -> date:
    if qualifier == "next":
        return _monday_of(today) + timedelta(days=7 + weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _weekend(qualifier: str | None, today: date) -> list[date]:
    saturday = _monday_of(today) + timedelta(days=5)
    if qualifier == "next":
        saturday += timedelta(days=7)
    days = [saturday, saturday + timedelta(days=1)]
    return [d for d in days if d >= today]


def _from_ordinal_day(day: int, today: date) -> date | None:
    candidate = _safe_date(today.year, today.month, day)
    if candidate is not None and candidate >= today:
        return candidate
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return _safe_date(year, month, day)


_Extractor = Callable[[re.Match[str], date], list[date]]


def _opt_int(value: str | None) -> int | None:
    return int(value) if value else None


def _one(value: date | None) -> list[date]:
    return [value] if value is not None else []


# Order matters: an earlier pattern claims its span of text before later ones.
_EXTRACTORS: tuple[tuple[re.Pattern[str], _Extractor], ...] = (
    (_ISO, lambda m, t: _one(_safe_date(int(m[1]), int(m[2]), int(m[3])))),
    (_DOTTED, lambda m, t: _one(_upcoming(int(m[2]), int(m[1]), int(m[3]), t))),
    (_NUMERIC, lambda m, t: _one(_upcoming(int(m[2]), int(m[1]), _opt_int(m[3]), t))),
    (
        _DAY_MONTH,
        lambda m, t: _one(_upcoming(_MONTH_WORDS[m[2]], int(m[1]), _opt_int(m[3]), t)),
    ),
    (
        _MONTH_DAY,
        lambda m, t: _one(_upcoming(_MONTH_WORDS[m[1]], int(m[2]), _opt_int(m[3]), t)),
    ),
    (_HOLIDAY, lambda m, t: _one(_upcoming(*_HOLIDAYS[m[1]], None, t))),
    (_DAY_AFTER_TOMORROW, lambda m, t: [t + timedelta(days=2)]),
    (_TOMORROW, lambda m, t: [t + timedelta(days=1)]),
    (_TODAY, lambda m, t: [t]),
    (_WEEKEND, lambda m, t: _weekend(m[1], t)),
    (_WEEKDAY_PHRASE, lambda m, t: [_weekday_date(m[1], _WEEKDAY_WORDS[m[2]], t)]),
    (_ORDINAL_DAY, lambda m, t: _one(_from_ordinal_day(int(m[1]), t))),
)


def parse_days(text: str, now: datetime) -> list[date]:
    """Return the days a message asks about, in the order they are mentioned.

    Args:
        text: What the reader typed, e.g. "is northside open next monday?".
        now: The current time, aware and in the library's timezone.

    Returns:
        The dates mentioned, without duplicates; usually one, two for "this
        weekend", and an empty list when the message names no day.
    """
    today = now.date()
    normalised = _normalise(text)
    claimed: list[tuple[int, int]] = []
    found: list[tuple[int, list[date]]] = []
    for pattern, extract in _EXTRACTORS:
        for match in pattern.finditer(normalised):
            start, end = match.span()
            if any(start < c_end and c_start < end for c_start, c_end in claimed):
                continue
            claimed.append((start, end))
            found.append((start, extract(match, today)))
    result: list[date] = []
    for _, days in sorted(found, key=lambda item: item[0]):
        for day in days:
            if day not in result:
                result.append(day)
    return result


def mentions_day(text: str, now: datetime) -> bool:
    """Return whether the message names any day at all."""
    return bool(parse_days(text, now))
