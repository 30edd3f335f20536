"""Finding the day a reader asks about."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from actions._dates import mentions_day, parse_days

LONDON = ZoneInfo("Europe/London")
# Wednesday 2 December 2026, 15:00 in London.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("when do you close today", [date(2026, 12, 2)]),
        ("are you open tonight?", [date(2026, 12, 2)]),
        ("is central open now", [date(2026, 12, 2)]),
        ("are you open tomorrow", [date(2026, 12, 3)]),
        ("open tmrw?", [date(2026, 12, 3)]),
        ("day after tomorrow", [date(2026, 12, 4)]),
        ("is northside open sunday", [date(2026, 12, 6)]),
        ("is northside open on Sundays?", [date(2026, 12, 6)]),
        ("hours on wednesday", [date(2026, 12, 2)]),
        ("this saturday", [date(2026, 12, 5)]),
        ("next monday", [date(2026, 12, 7)]),
        ("next wednesday", [date(2026, 12, 9)]),
        ("next sunday", [date(2026, 12, 13)]),
        ("are you open on 24 December", [date(2026, 12, 24)]),
        ("24th dec", [date(2026, 12, 24)]),
        ("december 24", [date(2026, 12, 24)]),
        ("Dec 24th, 2027", [date(2027, 12, 24)]),
        ("24/12", [date(2026, 12, 24)]),
        ("24/12/2026", [date(2026, 12, 24)]),
        ("24/12/27", [date(2027, 12, 24)]),
        ("2027-01-04", [date(2027, 1, 4)]),
        ("christmas eve", [date(2026, 12, 24)]),
        ("Christmas Day", [date(2026, 12, 25)]),
        ("boxing day", [date(2026, 12, 26)]),
        ("new year's day", [date(2027, 1, 1)]),
        ("New Year\u2019s Day", [date(2027, 1, 1)]),
        ("new years eve", [date(2026, 12, 31)]),
        ("this weekend", [date(2026, 12, 5), date(2026, 12, 6)]),
        ("next weekend", [date(2026, 12, 12), date(2026, 12, 13)]),
        ("the 5th", [date(2026, 12, 5)]),
        ("tomorrow or friday", [date(2026, 12, 3), date(2026, 12, 4)]),
        ("what are your opening hours", []),
        ("open at 10.30?", []),
    ],
)
def test_parse_days(text, expected):
    assert parse_days(text, NOW) == expected


def test_weekday_named_today_is_today():
    sunday = datetime(2026, 12, 6, 11, 0, tzinfo=LONDON)

    assert parse_days("is northside open sunday", sunday) == [date(2026, 12, 6)]
    assert parse_days("next sunday", sunday) == [date(2026, 12, 13)]


def test_this_weekend_on_a_sunday_is_just_today():
    sunday = datetime(2026, 12, 6, 11, 0, tzinfo=LONDON)

    assert parse_days("open this weekend?", sunday) == [date(2026, 12, 6)]


def test_past_dates_roll_over_to_next_year():
    assert parse_days("1/12", NOW) == [date(2027, 12, 1)]
    assert parse_days("march 1st", NOW) == [date(2027, 3, 1)]
    assert parse_days("2 december", NOW) == [date(2026, 12, 2)]


def test_invalid_dates_are_ignored():
    assert parse_days("31/02", NOW) == []
    assert parse_days("30 february", NOW) == []


def test_mentions_day():
    assert mentions_day("open tomorrow?", NOW) is True
    assert mentions_day("opening hours please", NOW) is False
