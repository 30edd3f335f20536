"""Loading and validating bot/library_profile.yml."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path

import pytest
import yaml

from library.profile import (
    OpeningTimes,
    ProfileError,
    clear_profile_cache,
    default_profile_path,
    load_profile,
)

REAL_PROFILE = Path(__file__).resolve().parents[2] / "bot" / "library_profile.yml"


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_profile_cache()
    yield
    clear_profile_cache()


def _variant(tmp_path: Path, change) -> Path:
    """Write the real profile, altered by ``change(document)``, to a temporary file."""
    document = yaml.safe_load(REAL_PROFILE.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _branch(document, branch_id):
    return next(b for b in document["branches"] if b["id"] == branch_id)


def test_the_real_profile_loads():
    profile = load_profile(REAL_PROFILE)

    assert profile.library.name == "Riverbend Public Library"
    assert profile.timezone == "Europe/London"
    assert profile.branch_ids == ("central", "northside", "riverside")
    northside = profile.branch("northside")
    assert northside.short_name == "Northside"
    assert northside.hours[0] == OpeningTimes(time(10, 0), time(18, 0))
    assert northside.hours[6] is None
    assert profile.loan_rules["dvd"].loan_period_days == 7
    assert profile.loan_rules["book"].overdue_fee_per_day == 0.25
    assert profile.total_max_items == 20
    assert profile.contacts["email"] == "hello@riverbend-library.example"
    christmas_eve = profile.closures_on(date(2026, 12, 24), "central")
    assert [(c.name, c.type, c.close) for c in christmas_eve] == [
        ("Christmas Eve", "early_closing", time(14, 0))
    ]
    assert profile.closures_on(date(2026, 7, 15), "central") == ()
    assert [c.name for c in profile.closures_on(date(2026, 7, 15), "northside")] == [
        "Staff training day"
    ]
    assert profile.raw["faq"]["wifi"]["network"] == "Riverbend-Library"


def test_profile_is_cached_until_reloaded(tmp_path):
    path = _variant(tmp_path, lambda d: None)
    first = load_profile(path)
    assert load_profile(path) is first

    path.write_text(
        path.read_text(encoding="utf-8").replace("Riverbend Public Library", "Elsewhere Library"),
        encoding="utf-8",
    )
    assert load_profile(path).library.name == "Riverbend Public Library"
    assert load_profile(path, reload=True).library.name == "Elsewhere Library"


def test_default_path_comes_from_the_environment(tmp_path, monkeypatch):
    path = _variant(tmp_path, lambda d: d["library"].update(name="Env Library"))
    monkeypatch.setenv("RIC_LIBRARY_PROFILE", str(path))

    assert default_profile_path() == path
    assert load_profile().library.name == "Env Library"


def test_default_path_without_the_environment(monkeypatch):
    monkeypatch.delenv("RIC_LIBRARY_PROFILE", raising=False)

    assert default_profile_path() == REAL_PROFILE


def _set_open(document):
    _branch(document, "northside")["hours"]["monday"]["open"] = "9am"


def _bad_closure_date(document):
    document["closures"][3]["date"] = "2026-13-45"


def _bad_loan_period(document):
    document["loan_rules"]["dvd"]["loan_period_days"] = 0


def _unknown_timezone(document):
    document["library"]["timezone"] = "Europe/Londn"


def _missing_weekday(document):
    del _branch(document, "central")["hours"]["sunday"]


def _close_before_open(document):
    _branch(document, "riverside")["hours"]["friday"] = {"open": "17:00", "close": "09:30"}


def _unknown_closure_branch(document):
    document["closures"][7]["branches"] = ["westside"]


def _bad_closure_type(document):
    document["closures"][0]["type"] = "shut"


def _early_closing_without_time(document):
    del document["closures"][9]["close"]


def _duplicate_branch(document):
    document["branches"][2]["id"] = "central"


def _missing_section(document):
    del document["loan_rules"]


def _negative_fee(document):
    document["loan_rules"]["book"]["max_fee"] = -1


def _bool_renewals(document):
    document["loan_rules"]["laptop"]["max_renewals"] = True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_open, "branches.northside.hours.monday.open: expected HH:MM, got '9am'"),
        (_bad_closure_date, "closures[3].date: not a date"),
        (
            _bad_loan_period,
            "loan_rules.dvd.loan_period_days: must be a positive integer, got 0 (int)",
        ),
        (_unknown_timezone, "library.timezone: unknown timezone 'Europe/Londn'"),
        (_missing_weekday, "branches.central.hours.sunday: missing"),
        (_close_before_open, "branches.riverside.hours.friday.close: must be later than open"),
        (_unknown_closure_branch, "closures[7].branches[0]: unknown branch 'westside'"),
        (_bad_closure_type, "closures[0].type: expected 'closed' or 'early_closing', got 'shut'"),
        (_early_closing_without_time, "closures[9].close: expected HH:MM, got nothing"),
        (_duplicate_branch, "branches[2].id: duplicate branch id 'central'"),
        (_missing_section, "loan_rules: missing section"),
        (_negative_fee, "loan_rules.book.max_fee: must be a non-negative amount"),
        (_bool_renewals, "loan_rules.laptop.max_renewals: must be a non-negative integer"),
    ],
)
def test_invalid_profiles_name_the_bad_field(tmp_path, change, message):
    path = _variant(tmp_path, change)

    with pytest.raises(ProfileError, match="^" + re.escape(message)):
        load_profile(path)


def test_unquoted_time_gets_a_hint(tmp_path):
    path = tmp_path / "profile.yml"
    text = REAL_PROFILE.read_text(encoding="utf-8").replace(
        'saturday:  {open: "10:00", close: "13:00"}', "saturday:  {open: 10:00, close: 13:00}"
    )
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ProfileError) as caught:
        load_profile(path)

    assert str(caught.value) == (
        "branches.northside.hours.saturday.open: expected HH:MM, got 600 "
        '(quote times in YAML, e.g. "10:00")'
    )


def test_missing_file_and_broken_yaml(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "nope.yml")

    broken = tmp_path / "broken.yml"
    broken.write_text("library: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(broken)


def test_suggested_topics_come_from_the_profile():
    profile = load_profile(REAL_PROFILE, reload=True)
    assert profile.suggested_topics == (
        "When are you open today?",
        "Renew my loans",
        "Find a book",
        "Talk to a librarian",
    )


def test_suggested_topics_are_optional_and_checked(tmp_path):
    without = _variant(tmp_path, lambda d: d.pop("suggested_topics"))
    assert load_profile(without, reload=True).suggested_topics == ()
    six = ["a", "b", "c", "d", "e", "f"]
    too_many = _variant(tmp_path, lambda d: d.update(suggested_topics=six))
    with pytest.raises(ProfileError, match=r"suggested_topics: at most 5, got 6"):
        load_profile(too_many, reload=True)
    blank = _variant(tmp_path, lambda d: d.update(suggested_topics=["Hours", " "]))
    with pytest.raises(ProfileError, match=r"suggested_topics\[1\]: expected a non-empty string"):
        load_profile(blank, reload=True)
