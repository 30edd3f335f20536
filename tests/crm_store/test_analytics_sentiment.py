"""The lexicon sentiment scorer on clear positives, negatives and negations."""

from __future__ import annotations

import math

import pytest

from worker.analytics.sentiment import score


@pytest.mark.parametrize(
    "text",
    ["Great help, thank you!", "The librarian was so friendly and quick", "Excellent service"],
)
def test_clear_positives(text: str) -> None:
    assert score(text).label == "positive"


@pytest.mark.parametrize(
    "text",
    ["Terrible, I waited forever", "the bot was useless", "rude and unhelpful staff"],
)
def test_clear_negatives(text: str) -> None:
    assert score(text).label == "negative"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not helpful at all", "negative"),
        ("The chat was not bad", "positive"),
        ("didn't solve my problem", "negative"),
        ("no problem at all, thanks", "positive"),
        ("it was ok but slow", "negative"),
    ],
)
def test_negation_and_but(text: str, label: str) -> None:
    assert score(text).label == label


def test_scores_are_normalised_by_hand() -> None:
    # "good" = 1.9 -> 1.9 / sqrt(1.9^2 + 15) = 1.9 / 4.31393 = 0.4404
    assert score("good").compound == round(1.9 / math.sqrt(1.9**2 + 15), 4) == 0.4404
    # "not good": 1.9 * -0.74 = -1.406 -> -1.406 / sqrt(1.9768 + 15) = -1.406 / 4.1203
    assert score("not good").compound == -0.3412
    # "very good": 1.9 + 0.3 = 2.2 -> 2.2 / sqrt(4.84 + 15) = 2.2 / 4.4542
    assert score("very good").compound == 0.4939


def test_empty_and_unknown_text_is_neutral() -> None:
    assert score("").label == "neutral"
    assert score(None).compound == 0.0
    assert score("wifi password").label == "neutral"
