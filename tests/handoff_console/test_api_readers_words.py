"""How the reader panel writes dates, due dates and browsers (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff_console.services.identities import browser_name
from handoff_console.services.reader_library import day_label, due_relative

pytestmark = pytest.mark.workspace

TODAY = dt.date(2026, 12, 6)


def test_day_label_is_the_librarys_way_of_writing_a_day() -> None:
    assert day_label(dt.date(2026, 12, 8)) == "Tue 8 Dec 2026"
    assert day_label(dt.date(2027, 1, 31)) == "Sun 31 Jan 2027"


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (TODAY, "due today"),
        (TODAY + dt.timedelta(days=1), "due tomorrow"),
        (TODAY + dt.timedelta(days=3), "due in 3 days"),
        (TODAY - dt.timedelta(days=1), "overdue by 1 day"),
        (TODAY - dt.timedelta(days=2), "overdue by 2 days"),
    ],
)
def test_due_relative(due: dt.date, expected: str) -> None:
    assert due_relative(due, TODAY) == expected


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36", "Chrome"),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox"),
        (
            "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1",
            "Safari",
        ),
        ("curl/8.5", None),
        (None, None),
    ],
)
def test_browser_name(agent: object, expected: str | None) -> None:
    assert browser_name(agent) == expected
