"""FAQ answers filled from the library profile."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import hours
from actions.faq import PLACEHOLDER, ActionAnswerFaq, faq_response_key, format_answer
from library.profile import clear_profile_cache, load_profile
from tests.aio import run as aio_run

FAQ_DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain" / "faq.yml"
TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def profile():
    clear_profile_cache()
    return load_profile()


@pytest.fixture(scope="module")
def responses():
    return yaml.safe_load(FAQ_DOMAIN.read_text(encoding="utf-8"))["responses"]


def test_printing_answer_quotes_the_profile_prices(profile, responses):
    text = format_answer(responses["utter_faq/printing"][0]["text"], profile, TODAY)

    assert "Black and white costs 10p per page and colour 50p per page (A3 is 20p extra)." in text


def test_answers_follow_a_changed_profile(profile, responses, tmp_path):
    document = yaml.safe_load(
        (FAQ_DOMAIN.parents[1] / "library_profile.yml").read_text(encoding="utf-8")
    )
    document["faq"]["printing"]["bw_per_page"] = 0.15
    document["loan_rules"]["dvd"]["loan_period_days"] = 14
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    changed = load_profile(path)

    printing = format_answer(responses["utter_faq/printing"][0]["text"], changed, TODAY)
    loans = format_answer(responses["utter_faq/loan_periods"][0]["text"], changed, TODAY)

    assert "Black and white costs 15p per page" in printing
    assert "DVDs 14 days" in loans


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{faq.wifi.network}", "Riverbend-Library"),
        ("{loan_rules.book.loan_period_days}", "21"),
        ("{contacts.email}", "hello@riverbend-library.example"),
        ("{loan_rules.book.overdue_fee_per_day:money}", "25p"),
        ("{loan_rules.book.max_fee:money}", "£6.00"),
        ("{faq.scanning.price:money}", "free"),
        ("{loan_rules.book.overdue_fee_per_day:pounds}", "£0.25"),
        ("{faq.computers.session_minutes_per_day:duration}", "2 hours"),
        ("{faq.ebook_apps:list}", "Libby, BorrowBox and PressReader"),
        ("{faq.ebook_apps.1}", "BorrowBox"),
        ("{branches.northside.name}", "Northside Branch"),
        ("{branches.central.hours.saturday.open:time}", "10:00"),
        ("{branches.riverside.hours.monday.open:time}", "9:30"),
        ("{closures.christmas_eve.close:time}", "14:00"),
        ("{closures.christmas_eve.date}", "Thursday 24 December 2026"),
        ("{closures.easter_saturday.branches:list}", "Central and Riverside"),
        ("{library.name}", "Riverbend Public Library"),
    ],
)
def test_placeholders(profile, template, expected):
    assert format_answer(template, profile, TODAY) == expected


def test_upcoming_closures(profile):
    assert format_answer("{closures.upcoming}", profile, date(2027, 12, 20)) == (
        "Fri 24 Dec (Christmas Eve): closing at 14:00; Sat 25 Dec (Christmas Day): closed; "
        "Sun 26 Dec (Boxing Day): closed; "
        "Mon 27 Dec (Christmas Day (substitute bank holiday)): closed"
    )


def test_unknown_placeholder_is_left_intact_and_logged(profile, caplog):
    template = "Call {contacts.fax} or see {faq.wifi} or {faq.wifi.network:money}, {}, {0}."

    with caplog.at_level(logging.WARNING, logger="actions.faq"):
        text = format_answer(template, profile, TODAY)

    assert text == template
    assert [r.getMessage() for r in caplog.records] == [
        "FAQ placeholder {contacts.fax}: no such field in the library profile",
        "FAQ placeholder {faq.wifi}: cannot format " + repr(profile.raw["faq"]["wifi"]),
        "FAQ placeholder {faq.wifi.network:money}: cannot format 'Riverbend-Library'",
    ]


def test_every_faq_placeholder_resolves(profile, responses):
    for key, variations in responses.items():
        for variation in variations:
            text = format_answer(variation["text"], profile, TODAY)
            assert PLACEHOLDER.search(text) is None, f"{key}: {text}"


def test_response_key_from_the_selector():
    assert (
        faq_response_key(
            {"response_selector": {"faq": {"response": {"utter_action": "utter_faq/wifi"}}}}
        )
        == "utter_faq/wifi"
    )
    assert (
        faq_response_key(
            {"response_selector": {"faq": {"response": {"intent_response_key": "faq/parking"}}}}
        )
        == "utter_faq/parking"
    )
    assert faq_response_key({"text": "hello"}) is None


def _tracker(response):
    return Tracker.from_dict(
        {
            "sender_id": "reader-1",
            "slots": {},
            "latest_message": {
                "text": "how much is printing?",
                "intent": {"name": "faq", "confidence": 0.97},
                "entities": [],
                "response_selector": {
                    "all_retrieval_intents": ["faq"],
                    "faq": {
                        "response": {
                            "id": 1,
                            "responses": [{"text": "unused"}],
                            "response_templates": [{"text": "unused"}],
                            "confidence": 0.93,
                            "intent_response_key": "faq/printing",
                            **response,
                        },
                        "ranking": [],
                    },
                },
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


@pytest.fixture
def fixed_clock(monkeypatch):
    london = ZoneInfo("Europe/London")
    monkeypatch.setattr(hours, "clock", lambda tz: datetime(2026, 12, 2, 12, 0, tzinfo=london))


def test_action_answers_from_the_selected_response(profile, responses, fixed_clock):
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"utter_action": "utter_faq/printing"})

    events = aio_run(ActionAnswerFaq().run(dispatcher, tracker, {"responses": responses}))

    assert events == []
    assert [m["text"] for m in dispatcher.messages] == [
        "You can print from the library PCs or from your own device via "
        "print.riverbend-library.example, then release the job at any printer with your "
        "card. Black and white costs 10p per page and colour 50p per page (A3 is 20p extra). "
        "Pay by card at the printer or top up at the desk."
    ]


def test_action_falls_back_to_the_intent_response_key(profile, responses, fixed_clock):
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"intent_response_key": "faq/wifi"})

    aio_run(ActionAnswerFaq().run(dispatcher, tracker, {"responses": responses}))

    (message,) = dispatcher.messages
    assert message["text"].startswith(
        'Free wifi is available at all branches: connect to the network "Riverbend-Library"'
    )
    assert re.search(r"\{[a-z_.]+\}", message["text"]) is None


def test_action_with_an_unknown_response(profile, fixed_clock):
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"utter_action": "utter_faq/unicorns"})

    aio_run(ActionAnswerFaq().run(dispatcher, tracker, {"responses": {}}))

    assert [m["response"] for m in dispatcher.messages] == ["utter_default"]


def test_response_key_from_a_selector_without_retrieval_intent():
    # Rasa files the result under "default" when the ResponseSelector has no retrieval_intent.
    message = {"response_selector": {"default": {"response": {"utter_action": "utter_faq/wifi"}}}}
    assert faq_response_key(message) == "utter_faq/wifi"
