"""LibraryEntityExtractor and the entity finders it shares with the actions."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from rasa.shared.nlu.training_data.message import Message

from crm_store import clock
from nlu_components.entities import LibraryEntityExtractor
from nlu_components.entity_patterns import (
    find_card_numbers,
    find_dates,
    find_emails,
    find_formats,
    find_title_and_author,
)

SUNDAY = date(2026, 12, 6)


@pytest.fixture(scope="module")
def extractor() -> LibraryEntityExtractor:
    return LibraryEntityExtractor(LibraryEntityExtractor.get_default_config())


@pytest.fixture
def travel():
    previous = clock.install(clock.TravelClock(datetime(2026, 12, 6, 12, tzinfo=timezone.utc)))
    yield
    clock.install(previous)


def entities_of(extractor: LibraryEntityExtractor, text: str, existing=None) -> list[tuple]:
    message = Message(data={"text": text, "entities": list(existing or [])})
    extractor.process([message])
    return [
        (e["entity"], e["value"], e.get("role"), text[e["start"] : e["end"]])
        for e in message.get("entities")
    ]


@pytest.mark.parametrize(
    ("text", "title", "author"),
    [
        (
            "do you have Cry, the Beloved Country by Alan Paton?",
            "Cry, the Beloved Country",
            "Alan Paton",
        ),
        (
            "reserve Tomorrow, and Tomorrow, and Tomorrow please",
            "Tomorrow, and Tomorrow, and Tomorrow",
            None,
        ),
        ("is Thinking, Fast and Slow available at northside", "Thinking, Fast and Slow", None),
        (
            "can i reserve I, Robot by Isaac Asimov for pickup at central",
            "I, Robot",
            "Isaac Asimov",
        ),
        ("do you have “Beloved”", "Beloved", None),
        (
            "do you have “Girl, Woman, Other” by Bernardine Evaristo",
            "Girl, Woman, Other",
            "Bernardine Evaristo",
        ),
        ("can i reserve the audiobook of Thinking, Fast and Slow", "Thinking, Fast and Slow", None),
        ("what time do you close", None, None),
    ],
)
def test_titles_keep_their_commas_and_the_author_is_separate(text, title, author):
    found_title, found_author = find_title_and_author(text)

    assert (found_title.value if found_title else None) == title
    assert (found_author.value if found_author else None) == author


@pytest.mark.parametrize(
    ("text", "answer", "expected"),
    [
        ("not the ebook", False, [("ebook", "excluded")]),
        (
            "the audiobook please, not the ebook",
            False,
            [("audiobook", None), ("ebook", "excluded")],
        ),
        ("large print", False, [("large_print", None)]),
        ("a paperback copy", False, [("book", None)]),
        ("anything but the DVD", False, [("dvd", "excluded")]),
        ("no e-books", False, [("ebook", "excluded")]),
        ("the book", False, []),
        ("the book", True, [("book", None)]),
        ("i don't want the audio book", False, [("audiobook", "excluded")]),
    ],
)
def test_formats_and_negated_formats(text, answer, expected):
    assert [(f.value, f.role) for f in find_formats(text, answer=answer)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I need it by Friday", [("Friday", "2026-12-11", "deadline")]),
        ("next week", [("next week", "2026-12-07", None)]),
        ("before next monday", [("next monday", "2026-12-07", "deadline")]),
        ("in two weeks", [("in two weeks", "2026-12-20", None)]),
        ("on 24 December", [("24 December", "2026-12-24", None)]),
        ("tomorrow please", [("tomorrow", "2026-12-07", None)]),
        ("it sat on the shelf", []),
        ("by sat", [("sat", "2026-12-12", "deadline")]),
    ],
)
def test_dates_resolve_against_today(text, expected):
    assert [(f.text, f.value, f.role) for f in find_dates(text, SUNDAY)] == expected


def test_emails_and_cards():
    assert [f.value for f in find_emails("mail Ada.Okafor@Example.org, or ada@x.co.uk.")] == [
        "ada.okafor@example.org",
        "ada@x.co.uk",
    ]
    assert [f.value for f in find_card_numbers("card is 2123 4000 1234 56, pin 4821")] == [
        "21234000123456"
    ]
    assert find_card_numbers("call 0207 946 0000") == []


def test_card_and_pin_in_one_message_give_the_card_and_never_the_pin(extractor):
    found = entities_of(extractor, "card is 21234000123456, pin 4821")

    assert found == [("card_number", "21234000123456", None, "21234000123456")]


def test_the_component_adds_every_library_entity(extractor, travel):
    text = (
        "can I reserve the large print of Cry, the Beloved Country by Alan Paton at the "
        "main library, by Friday? email ada@example.org"
    )

    assert entities_of(extractor, text) == [
        ("book_format", "large_print", None, "large print"),
        ("book_query", "Cry, the Beloved Country", None, "Cry, the Beloved Country"),
        ("author", "Alan Paton", None, "Alan Paton"),
        ("branch", "central", None, "the main library"),
        ("date", "2026-12-11", "deadline", "Friday"),
        ("email", "ada@example.org", None, "ada@example.org"),
    ]


def test_not_the_ebook_is_a_format_entity_with_a_role(extractor):
    assert entities_of(extractor, "not the ebook") == [
        ("book_format", "ebook", "excluded", "ebook")
    ]


def test_a_learned_title_cut_at_the_comma_is_replaced_and_a_branch_is_kept(extractor):
    text = "do you have Cry, the Beloved Country at northside"
    existing = [
        {"entity": "book_query", "start": 12, "end": 15, "value": "Cry", "extractor": "CRF"},
        {"entity": "branch", "start": 40, "end": 49, "value": "northside", "extractor": "CRF"},
    ]

    assert entities_of(extractor, text, existing) == [
        ("book_query", "Cry, the Beloved Country", None, "Cry, the Beloved Country"),
        ("branch", "northside", None, "northside"),
    ]


def test_button_payloads_are_left_alone(extractor):
    message = Message(data={"text": '/place_hold{"record_id": "b0141"}', "entities": []})
    extractor.process([message])
    assert message.get("entities") == []
