"""Catalogue search: typos, exact titles first, formats, nothing for gibberish."""

from __future__ import annotations

import pytest

from library.ils import BranchAvailability, DemoLibrarySystem
from tests.aio import run as aio_run


def ids(ils: DemoLibrarySystem, query: str, limit: int = 5, format: str | None = None) -> list[str]:
    return [r.record_id for r in aio_run(ils.search(query, limit=limit, format=format))]


def test_harry_poter(ils: DemoLibrarySystem) -> None:
    results = aio_run(ils.search("harry poter"))
    assert [r.title for r in results] == [
        "Harry Potter and the Philosopher's Stone",
        "Harry Potter and the Chamber of Secrets",
        "Harry Potter and the Prisoner of Azkaban",
        "Harry Potter and the Goblet of Fire",
        "Harry Potter and the Order of the Phoenix",
    ]


def test_tolkein_hobbit(ils: DemoLibrarySystem) -> None:
    assert ids(ils, "tolkein hobbit") == ["b0613", "b0614"]


def test_books_about_dinosaurs(ils: DemoLibrarySystem) -> None:
    assert ids(ils, "books about dinosaurs") == ["b0528", "b0529"]


def test_orwell(ils: DemoLibrarySystem) -> None:
    results = aio_run(ils.search("orwell", limit=10))
    assert [(r.record_id, r.author) for r in results] == [
        ("b1184", "Orwell, George"),
        ("b1100", "Orwell, George"),
        ("b0067", "Orwell, George"),
        ("b0065", "Orwell, George"),
        ("b0066", "Orwell, George"),
    ]


@pytest.mark.parametrize(
    ("query", "first"),
    [("It", "b0531"), ("the hobbit", "b0613"), ("Emma", "b0006"), ("room", "b0394")],
)
def test_exact_title_ranks_first(ils: DemoLibrarySystem, query: str, first: str) -> None:
    results = aio_run(ils.search(query))
    assert results[0].record_id == first
    assert results[0].title.lower() == query.lower()
    others = [r.score for r in results if r.title.lower() != query.lower()]
    assert results[0].score > max(others, default=0.0)


@pytest.mark.parametrize("query", ["xqzvbn", "qwertyuiop asdfgh", "", "   ", "the of and"])
def test_nothing_relevant_gives_nothing(ils: DemoLibrarySystem, query: str) -> None:
    assert ids(ils, query) == []


def test_format_filter_and_format_words(ils: DemoLibrarySystem) -> None:
    assert ids(ils, "the hobbit", format="audiobook") == ["b0614"]
    assert ids(ils, "hobbit audiobook") == ["b0614", "b0613"]
    assert ids(ils, "pride and prejudice", format="large print") == ["b0003"]


def test_limit(ils: DemoLibrarySystem) -> None:
    assert ids(ils, "harry potter", limit=2) == ["b0751", "b0754"]
    assert ids(ils, "harry potter", limit=0) == []


def test_result_fields(ils: DemoLibrarySystem) -> None:
    result = aio_run(ils.search("Pride and Prejudice", limit=1))[0]
    assert (
        result.record_id,
        result.title,
        result.author,
        result.year,
        result.format,
        result.subjects,
        result.isbn,
    ) == (
        "b0001",
        "Pride and Prejudice",
        "Austen, Jane",
        1813,
        "book",
        ("romance", "society", "classic fiction"),
        "9780141439518",
    )
    # The missing copy at Northside is not counted.
    assert result.availability == (
        BranchAvailability("northside", 0, 1),
        BranchAvailability("riverside", 0, 1),
    )
    assert (result.available_count, result.total_count) == (0, 2)


def test_isbn(ils: DemoLibrarySystem) -> None:
    assert ids(ils, "978-0141439518") == ["b0001"]
