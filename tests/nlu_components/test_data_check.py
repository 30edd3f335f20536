"""Training data hygiene: no text under two labels; the near-duplicate report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlu_components.data_check import conflicts, load_examples, near_duplicates, normalise

ROOT = Path(__file__).resolve().parents[2]


def test_no_example_is_filed_under_two_labels() -> None:
    examples = load_examples(ROOT / "bot" / "data" / "nlu")
    assert len(examples) > 1000
    assert conflicts(examples) == {}


def test_conflicts_ignore_case_punctuation_and_spacing() -> None:
    examples = [("Is the WiFi free?", "faq/wifi"), ("is the wifi  free", "search_catalog"),
                ("hello", "greet"), ("Hello!", "greet")]  # fmt: skip
    assert conflicts(examples) == {"is the wifi free": {"faq/wifi", "search_catalog"}}
    assert normalise("  Re: Over-due   NOTICE!! ") == "re over due notice"


def test_near_duplicates_pair_only_different_labels_most_similar_first() -> None:
    examples = [("a", "x"), ("b", "y"), ("c", "x"), ("d", "z")]
    vectors = np.array([[1.0, 0.0], [0.96, 0.28], [1.0, 0.0], [0.0, 1.0]])
    pairs = near_duplicates(examples, vectors, threshold=0.9)
    assert [(p.first, p.second) for p in pairs] == [
        (("a", "x"), ("b", "y")),
        (("b", "y"), ("c", "x")),
    ]
    assert round(pairs[0].similarity, 2) == 0.96
