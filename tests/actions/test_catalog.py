"""Catalogue search: the query, the replies and the reserve buttons."""

from __future__ import annotations

import json

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions._common import LIBRARIAN_BUTTON
from actions.catalog import ActionSearchCatalog, search_query
from tests.aio import run as aio_run

from .conftest import make_tracker


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("do you have any books by terry pratchett", "terry pratchett"),
        ("Is there a copy of Dune in the library?", "Dune"),
        ("looking for something about dinosaurs please", "dinosaurs"),
        ("hi, can I reserve The Hobbit", "Hobbit"),
        ("do you have any books", ""),
    ],
)
def test_search_query_strips_filler(text, expected):
    assert search_query(text, []) == expected


def test_search_query_strips_im():
    assert search_query("I'm looking for something about dinosaurs", []) == "dinosaurs"


def test_search_query_prefers_the_entity():
    assert search_query("have you got anything by pratchett", ["terry pratchett"]) == (
        "terry pratchett"
    )


def _search(text, entities=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="search_catalog", entities=entities)
    events = aio_run(ActionSearchCatalog().run(dispatcher, tracker, {}))
    assert events == []
    return dispatcher.messages


def test_results_with_at_most_three_reserve_buttons(library):
    messages = _search("do you have any books by terry pratchett")

    assert len(messages) == 1
    lines = messages[0]["text"].splitlines()
    assert lines[0] == "Here's what I found for “terry pratchett”:"
    assert [line.split(" — ")[0] for line in lines[1:]] == [
        "• The Colour of Magic",
        "• Mort",
        "• Guards! Guards!",
        "• Good Omens",
        "• Good Omens",
    ]
    assert all("Available: " in line for line in lines[1:])
    buttons = messages[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "Reserve: The Colour of Magic",
        "Reserve: Mort",
        "Reserve: Guards! Guards!",
    ]
    payloads = [b["payload"] for b in buttons]
    assert [p.startswith("/place_hold{") for p in payloads] == [True, True, True]
    assert [json.loads(p.removeprefix("/place_hold")) for p in payloads] == [
        {"record_id": "b0636", "book_query": "The Colour of Magic"},
        {"record_id": "b0637", "book_query": "Mort"},
        {"record_id": "b0638", "book_query": "Guards! Guards!"},
    ]


def test_nothing_found(library):
    messages = _search("xqzvwk plonkety")

    assert [(m["text"], m["buttons"]) for m in messages] == [
        (
            "I couldn't find anything for “xqzvwk plonkety”. Try another spelling, the author's "
            "name, or ask a librarian to order it through interlibrary loan.",
            [LIBRARIAN_BUTTON],
        )
    ]


def test_only_filler_asks_what_to_look_for(library):
    messages = _search("do you have any books?")

    assert [m["text"] for m in messages] == [
        "What are you looking for? Tell me a title, an author or a subject."
    ]


def test_system_down(library_down):
    messages = _search("terry pratchett")

    assert [(m["text"], m["buttons"]) for m in messages] == [
        (
            "Sorry, the library system isn't answering right now, so I can't reach your "
            "account. Please try again in a few minutes, or a librarian can help you now.",
            [LIBRARIAN_BUTTON],
        )
    ]
