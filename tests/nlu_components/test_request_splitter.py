"""Tests for splitting a message into separate requests."""

from __future__ import annotations

import pytest

from nlu_components.request_splitter import split_requests


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "hi, can you renew my books and also what time do you close today? "
            "and is there parking at riverside",
            [
                "can you renew my books",
                "what time do you close today?",
                "is there parking at riverside",
            ],
        ),
        (
            "1) renew my books 2) what are your hours on sunday 3) do you have wifi",
            ["renew my books", "what are your hours on sunday", "do you have wifi"],
        ),
        (
            "I have two questions:\n1. Can I renew my loans online?\n2. Where do I pay a fine?",
            ["Can I renew my loans online?", "Where do I pay a fine?"],
        ),
        (
            "Hi,\n- renew my loans\n- reserve Dune\n- cancel my hold on Emma\nThanks!",
            ["renew my loans", "reserve Dune", "cancel my hold on Emma"],
        ),
        (
            "is there a fee for late returns? also, can I return books at any branch",
            ["is there a fee for late returns?", "can I return books at any branch"],
        ),
        (
            "My card expired last month. Can you renew it? Another thing, do you sell tote bags?",
            ["My card expired last month. Can you renew it?", "do you sell tote bags?"],
        ),
        (
            "• renew my loans • opening hours tomorrow",
            ["renew my loans", "opening hours tomorrow"],
        ),
    ],
)
def test_several_requests_are_split(text: str, expected: list[str]) -> None:
    assert split_requests(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("renew my books please", "renew my books please"),
        (
            "Hello, I was wondering if you could possibly help me renew the books I borrowed "
            "last week, as I am travelling and will not be able to return them on time. "
            "Thank you so much!",
            "I was wondering if you could possibly help me renew the books I borrowed last "
            "week, as I am travelling and will not be able to return them on time.",
        ),
        (
            "I am travelling next week. Could you renew my books? Thanks!",
            "I am travelling next week. Could you renew my books?",
        ),
        (
            "Hi! I borrowed The Hobbit two weeks ago and I have not finished it yet, so I "
            "would like to keep it a little longer. Many thanks, Ada",
            "I borrowed The Hobbit two weeks ago and I have not finished it yet, so I would "
            "like to keep it a little longer.",
        ),
        (
            "Can you tell me what books I have and when they are due?",
            "Can you tell me what books I have and when they are due?",
        ),
        (
            "do you have J. K. Rowling books by Dr. Seuss",
            "do you have J. K. Rowling books by Dr. Seuss",
        ),
        ("do you close at 5. on fridays", "do you close at 5. on fridays"),
    ],
)
def test_single_request_stays_whole(text: str, expected: str) -> None:
    assert split_requests(text) == [expected]


def test_quoted_titles_are_not_cut() -> None:
    text = (
        'Do you have "Where Are You Going? And Also Why" in stock? Also, when does '
        "Dr. Smith give his talk?"
    )
    assert split_requests(text) == [
        'Do you have "Where Are You Going? And Also Why" in stock?',
        "when does Dr. Smith give his talk?",
    ]


def test_filler_only_and_blank_messages() -> None:
    assert split_requests("thanks!") == ["thanks!"]
    assert split_requests("   ") == []
    assert split_requests("Hi there!\n\nThanks") == ["Hi there!\n\nThanks"]
