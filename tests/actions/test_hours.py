"""Opening hours from the library profile, and the action that answers with them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import hours
from actions.hours import ActionLibraryHours, hours_answer
from crm_store import clock as store_clock
from library.hours import (
    DaySchedule,
    day_schedule,
    detect_branches,
    resolve_branch,
    weekly_summary,
)
from library.profile import clear_profile_cache, load_profile
from tests.aio import run as aio_run

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def profile():
    clear_profile_cache()
    return load_profile()


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# --------------------------------------------------------------------------- day_schedule


def test_regular_day(profile):
    assert day_schedule(profile, "northside", date(2026, 12, 2)) == DaySchedule(
        "northside", date(2026, 12, 2), time(13, 0), time(19, 0)
    )


def test_weekly_closed_day(profile):
    schedule = day_schedule(profile, "northside", date(2026, 12, 6))

    assert schedule.is_open is False
    assert schedule.reason == "closed on Sundays"
    assert schedule.holiday is None
    assert schedule.hours_text() == "closed on Sundays"


def test_holiday_closure(profile):
    schedule = day_schedule(profile, "central", date(2026, 12, 25))

    assert schedule == DaySchedule(
        "central", date(2026, 12, 25), None, None, "Christmas Day", "Christmas Day"
    )
    assert schedule.closed_text() == "closed for Christmas Day"


def test_closure_for_one_branch_only(profile):
    assert day_schedule(profile, "northside", date(2026, 7, 15)).reason == "Staff training day"
    assert day_schedule(profile, "central", date(2026, 7, 15)).is_open is True


def test_early_closing(profile):
    schedule = day_schedule(profile, "central", date(2026, 12, 24))

    assert (schedule.open, schedule.close) == (time(9, 0), time(14, 0))
    assert schedule.note == "early closing for Christmas Eve"
    assert schedule.hours_text() == "open 9:00\u201314:00 (early closing for Christmas Eve)"


def test_early_closing_for_some_branches_only(profile):
    # Easter Saturday 2026: Central and Riverside close at 13:00, Northside already does.
    assert day_schedule(profile, "central", date(2026, 4, 4)).close == time(13, 0)
    assert day_schedule(profile, "northside", date(2026, 4, 4)).note is None


# --------------------------------------------------------------------------- branches


def test_branch_detection(profile):
    assert detect_branches(profile, "is the main library open?") == ["central"]
    assert detect_branches(profile, "Central Library hours") == ["central"]
    assert detect_branches(profile, "the northside branch on sunday") == ["northside"]
    assert detect_branches(profile, "riverside or Northside?") == ["northside", "riverside"]
    assert detect_branches(profile, "are you open today") == []
    assert resolve_branch(profile, "central") == "central"
    assert resolve_branch(profile, "main library") == "central"
    assert resolve_branch(profile, "westside") is None


# --------------------------------------------------------------------------- hours_answer


def test_close_today_with_one_branch_closing_in_20_minutes(profile):
    answer = hours_answer(profile, "when do you close today", at(2026, 12, 2, 19, 40))

    assert answer == (
        "Today, Wednesday 2 December:\n"
        "- Central is open now and closing in 20 minutes (at 20:00).\n"
        "- Northside is closed now (today it was open 13:00\u201319:00); "
        "it next opens tomorrow at 10:00.\n"
        "- Riverside is closed now (today it was open 9:30\u201317:30); "
        "it next opens tomorrow at 9:30."
    )


def test_closing_in_20_minutes_for_one_branch(profile):
    answer = hours_answer(
        profile, "when does the main library close today?", at(2026, 12, 2, 19, 40)
    )

    assert answer == "Central is open now and closing in 20 minutes (at 20:00)."


def test_now_is_converted_to_the_library_timezone(profile):
    # 18:40 UTC on 1 July is 19:40 in London (BST).
    now = datetime(2026, 7, 1, 18, 40, tzinfo=UTC)

    answer = hours_answer(profile, "when do you close", now, branch_id="central")

    assert answer.splitlines()[0] == "Central is open now and closing in 20 minutes (at 20:00)."


def test_open_now_well_before_closing(profile):
    answer = hours_answer(profile, "is riverside open now?", at(2026, 12, 1, 11, 0))

    assert answer == "Riverside is open now until 19:00 (today 9:30\u201319:00)."


def test_before_opening(profile):
    answer = hours_answer(profile, "is northside open now?", at(2026, 12, 2, 11, 0))

    assert answer == "Northside is closed now and opens today at 13:00 (today 13:00\u201319:00)."


def test_now_after_closing_time(profile):
    answer = hours_answer(profile, "are you open now", at(2026, 12, 2, 20, 30))

    assert answer == (
        "Today, Wednesday 2 December:\n"
        "- Central is closed now (today it was open 9:00\u201320:00); "
        "it next opens tomorrow at 9:00.\n"
        "- Northside is closed now (today it was open 13:00\u201319:00); "
        "it next opens tomorrow at 10:00.\n"
        "- Riverside is closed now (today it was open 9:30\u201317:30); "
        "it next opens tomorrow at 9:30."
    )


def test_after_closing_before_a_weekly_closed_day(profile):
    answer = hours_answer(profile, "is northside open now", at(2026, 12, 5, 14, 0))

    assert answer == (
        "Northside is closed now (today it was open 10:00\u201313:00); "
        "it next opens Monday at 10:00."
    )


def test_northside_on_sunday(profile):
    answer = hours_answer(profile, "is Northside open Sunday", at(2026, 12, 2, 15, 0))

    assert answer == (
        "Northside is closed on Sundays. Central (open 12:00\u201316:00) and "
        "Riverside (open 11:00\u201315:00) are open on Sunday 6 December."
    )


def test_northside_on_sunday_asked_on_sunday(profile):
    answer = hours_answer(profile, "is Northside open sunday", at(2026, 12, 6, 10, 0))

    assert answer == (
        "Northside is closed on Sundays; it next opens tomorrow at 10:00. "
        "Central (open 12:00\u201316:00) and Riverside (open 11:00\u201315:00) are open today."
    )


def test_holiday_closure_for_all_branches(profile):
    answer = hours_answer(profile, "are you open on christmas day?", at(2026, 12, 2, 15, 0))

    assert answer == "All our branches are closed on Friday 25 December (Christmas Day)."


def test_holiday_closure_for_one_branch(profile):
    answer = hours_answer(profile, "is northside open on 15 july?", at(2026, 7, 1, 9, 0))

    assert answer == (
        "Northside is closed on Wednesday 15 July (Staff training day). "
        "Central (open 9:00\u201320:00) and Riverside (open 9:30\u201317:30) are open "
        "on Wednesday 15 July."
    )


def test_closed_today_for_a_holiday_says_when_it_next_opens(profile):
    answer = hours_answer(profile, "is central open?", at(2026, 12, 25, 10, 0))

    assert answer.splitlines()[0] == (
        "Central is closed today for Christmas Day; it next opens Sunday at 12:00. "
        "Our other branches are closed today too."
    )


def test_early_closing_on_24_december(profile):
    answer = hours_answer(profile, "hours on 24 December", at(2026, 12, 2, 15, 0))

    assert answer == (
        "Thursday 24 December:\n"
        "- Central: open 9:00\u201314:00 (early closing for Christmas Eve)\n"
        "- Northside: open 10:00\u201314:00 (early closing for Christmas Eve)\n"
        "- Riverside: open 9:30\u201314:00 (early closing for Christmas Eve)"
    )


def test_early_closing_for_one_branch(profile):
    answer = hours_answer(profile, "is the main library open 24th dec", at(2026, 12, 2, 15, 0))

    assert answer == (
        "On Thursday 24 December, Central is open 9:00\u201314:00 "
        "(early closing for Christmas Eve)."
    )


def test_closing_soon_on_an_early_closing_day(profile):
    answer = hours_answer(profile, "open now?", at(2026, 12, 24, 13, 15), branch_id="riverside")

    assert answer == (
        "Riverside is open now and closing in 45 minutes "
        "(at 14:00; early closing for Christmas Eve)."
    )


def test_open_tomorrow(profile):
    answer = hours_answer(profile, "are you open tomorrow", at(2026, 12, 2, 15, 0))

    assert answer == (
        "Tomorrow, Thursday 3 December:\n"
        "- Central: open 9:00\u201320:00\n"
        "- Northside: open 10:00\u201318:00\n"
        "- Riverside: open 9:30\u201319:00"
    )


def test_this_weekend(profile):
    answer = hours_answer(profile, "is riverside open this weekend", at(2026, 12, 2, 15, 0))

    assert answer == (
        "On Saturday 5 December, Riverside is open 9:30\u201316:00.\n\n"
        "On Sunday 6 December, Riverside is open 11:00\u201315:00."
    )


def test_no_day_gives_today_and_the_weekly_summary(profile):
    answer = hours_answer(profile, "what are your opening hours", at(2026, 12, 2, 8, 0))

    assert answer == (
        "Today, Wednesday 2 December:\n"
        "- Central is closed now and opens today at 9:00 (today 9:00\u201320:00).\n"
        "- Northside is closed now and opens today at 13:00 (today 13:00\u201319:00).\n"
        "- Riverside is closed now and opens today at 9:30 (today 9:30\u201317:30).\n"
        + weekly_summary(profile, ["central", "northside", "riverside"])
    )


def test_weekly_summary(profile):
    assert weekly_summary(profile, ["northside"]) == (
        "Usual hours: Northside Mon\u2013Tue 10:00\u201318:00, Wed 13:00\u201319:00, "
        "Thu 10:00\u201318:00, Fri 10:00\u201317:00, Sat 10:00\u201313:00, Sun closed."
    )
    assert weekly_summary(profile, ["central"]) == (
        "Usual hours: Central Mon\u2013Fri 9:00\u201320:00, Sat 10:00\u201317:00, "
        "Sun 12:00\u201316:00."
    )


def test_branch_from_the_entity_wins_over_the_text(profile):
    answer = hours_answer(profile, "opening hours", at(2026, 12, 2, 8, 0), branch_id="northside")

    assert answer == (
        "Northside is closed now and opens today at 13:00 (today 13:00\u201319:00).\n"
        + weekly_summary(profile, ["northside"])
    )


def test_naive_now_is_refused(profile):
    with pytest.raises(ValueError, match="timezone-aware"):
        hours_answer(profile, "today", datetime(2026, 12, 2, 12, 0))  # noqa: DTZ001


# --------------------------------------------------------------------------- the action


def _tracker(text, entities=()):
    return Tracker.from_dict(
        {
            "sender_id": "reader-1",
            "slots": {},
            "latest_message": {
                "text": text,
                "intent": {"name": "library_hours", "confidence": 0.98},
                "entities": list(entities),
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def test_action_answers_with_the_branch_entity(monkeypatch, profile):
    monkeypatch.setattr(hours, "clock", lambda tz: at(2026, 12, 2, 19, 40).astimezone(tz))
    dispatcher = CollectingDispatcher()
    tracker = _tracker(
        "when does the main library close today?",
        [{"entity": "branch", "value": "central", "start": 15, "end": 27}],
    )

    events = aio_run(ActionLibraryHours().run(dispatcher, tracker, {}))

    assert events == []
    assert [m["text"] for m in dispatcher.messages] == [
        "Central is open now and closing in 20 minutes (at 20:00)."
    ]


def test_action_without_entity_answers_for_the_day_asked(monkeypatch, profile):
    monkeypatch.setattr(hours, "clock", lambda tz: at(2026, 12, 2, 15, 0).astimezone(tz))
    dispatcher = CollectingDispatcher()

    aio_run(ActionLibraryHours().run(dispatcher, _tracker("is Northside open Sunday?"), {}))

    assert [m["text"] for m in dispatcher.messages] == [
        "Northside is closed on Sundays. Central (open 12:00\u201316:00) and "
        "Riverside (open 11:00\u201315:00) are open on Sunday 6 December."
    ]


def test_action_reports_a_broken_profile(monkeypatch, tmp_path):
    broken = tmp_path / "profile.yml"
    broken.write_text("library: {}\n", encoding="utf-8")
    monkeypatch.setenv("RIC_LIBRARY_PROFILE", str(broken))
    dispatcher = CollectingDispatcher()

    events = aio_run(ActionLibraryHours().run(dispatcher, _tracker("open today?"), {}))

    assert events == []
    assert [m["text"] for m in dispatcher.messages] == [hours.HOURS_UNAVAILABLE]


def test_the_store_clock_reaches_the_actions(monkeypatch, tmp_path):
    monkeypatch.setenv("RIC_VAR_DIR", str(tmp_path))  # no test clock file
    previous = store_clock.install(store_clock.TravelClock(at(2026, 12, 24, 13, 30)))
    try:
        assert hours.clock(LONDON) == at(2026, 12, 24, 13, 30)
        assert hours.clock(LONDON).tzinfo == LONDON
    finally:
        store_clock.install(previous)
