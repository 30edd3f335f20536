"""Quiet hours are read in the library's time zone, across midnight and summer time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from worker.jobs._outreach import quiet_until

UTC = timezone.utc


@pytest.fixture(autouse=True)
def _london(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_LIBRARY_TIMEZONE", "Europe/London")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter (GMT = UTC).
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), None),
        (datetime(2026, 1, 15, 20, 59, tzinfo=UTC), None),
        (datetime(2026, 1, 15, 21, 0, tzinfo=UTC), datetime(2026, 1, 16, 8, 0, tzinfo=UTC)),
        (datetime(2026, 1, 16, 3, 0, tzinfo=UTC), datetime(2026, 1, 16, 8, 0, tzinfo=UTC)),
        (datetime(2026, 1, 16, 8, 0, tzinfo=UTC), None),
        # Summer (BST = UTC+1): 21:00-08:00 in London is 20:00-07:00 UTC.
        (datetime(2026, 7, 15, 19, 59, tzinfo=UTC), None),
        (datetime(2026, 7, 15, 20, 0, tzinfo=UTC), datetime(2026, 7, 16, 7, 0, tzinfo=UTC)),
        (datetime(2026, 7, 16, 6, 30, tzinfo=UTC), datetime(2026, 7, 16, 7, 0, tzinfo=UTC)),
    ],
)
def test_default_quiet_hours_wrap_past_midnight(
    moment: datetime, expected: datetime | None
) -> None:
    assert quiet_until(moment, "21:00-08:00") == expected


def test_a_daytime_window_and_off() -> None:
    lunch = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
    assert quiet_until(lunch, "12:00-13:00") == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    assert quiet_until(lunch, "13:00-14:00") is None
    assert quiet_until(datetime(2026, 1, 15, 23, 0, tzinfo=UTC), "off") is None


def test_the_environment_setting_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_QUIET_HOURS", "22:00-07:00")
    assert quiet_until(datetime(2026, 1, 15, 21, 30, tzinfo=UTC)) is None
    assert quiet_until(datetime(2026, 1, 15, 22, 30, tzinfo=UTC)) == datetime(
        2026, 1, 16, 7, 0, tzinfo=UTC
    )
