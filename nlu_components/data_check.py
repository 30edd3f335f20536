"""Training data hygiene: the same example under two intents, and confusable examples.

Run ``.venv/bin/python -m nlu_components.data_check [--threshold 0.9] [--data bot/data/nlu]``.
It prints:

- **conflicts**: one text (compared case- and punctuation-insensitively, entity markup
  removed) filed under two labels. The test suite fails on any; fix them by deleting
  one copy.
- **near duplicates**: pairs of examples under *different* labels whose sentence
  embeddings (the classifier's own all-MiniLM-L6-v2) have a cosine similarity at or
  above the threshold, most similar first, with a count per pair of labels. These
  show an admin which intents or FAQ topics readers' words do not tell apart; they are
  a report, not an error.

The exit status is 1 when there is a conflict, else 0.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["NearDuplicate", "conflicts", "load_examples", "near_duplicates", "normalise"]

_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NearDuplicate:
    """Two examples under different labels that the encoder finds nearly the same."""

    similarity: float
    first: tuple[str, str]
    second: tuple[str, str]


def normalise(text: str) -> str:
    """Lower-case, drop punctuation and squeeze spaces, for comparing examples."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


def load_examples(data: Path) -> list[tuple[str, str]]:
    """``(text, label)`` for every intent example under ``data``; FAQ labels keep topics."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    loaded = load_data(str(data))
    return [
        (str(m.get(TEXT)), str(m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)))
        for m in loaded.intent_examples
        if m.get(TEXT)
    ]


def conflicts(examples: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Normalised texts that appear under more than one label, with those labels."""
    labels: dict[str, set[str]] = defaultdict(set)
    for text, label in examples:
        labels[normalise(text)].add(label)
    return {text: found for text, found in labels.items() if len(found) > 1}


def near_duplicates(
    examples: list[tuple[str, str]], embeddings: np.ndarray, threshold: float
) -> list[NearDuplicate]:
    """Pairs under different labels with cosine similarity >= ``threshold``.

    Args:
        examples: ``(text, label)`` pairs.
        embeddings: One L2-normalised row per example.
        threshold: The smallest similarity reported.

    Returns:
        The pairs, most similar first.
    """
    similarity = embeddings @ embeddings.T
    labels = np.array([label for _, label in examples])
    rows, cols = np.nonzero(np.triu(similarity >= threshold, k=1))
    found = [
        NearDuplicate(float(similarity[i, j]), examples[i], examples[j])
        for i, j in zip(rows, cols, strict=True)
        if labels[i] != labels[j]
    ]
    return sorted(found, key=lambda pair: -pair.similarity)


def main(argv: list[str] | None = None) -> int:
    """Print the report; exit 1 when an example is filed under two labels."""
    parser = argparse.ArgumentParser(description="Report conflicting and confusable examples.")
    parser.add_argument("--data", type=Path, default=Path("bot/data/nlu"))
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--limit", type=int, default=40, help="near-duplicate pairs to list")
    args = parser.parse_args(argv)
    examples = load_examples(args.data)
    clashes = conflicts(examples)
    print(f"{len(examples)} examples, {len({label for _, label in examples})} labels")
    print(f"conflicts (one text, several labels): {len(clashes)}")
    for text, labels in sorted(clashes.items()):
        print(f"  {text!r}: {', '.join(sorted(labels))}")
    from nlu_components.sentence_embeddings import load_sentence_model

    vectors = load_sentence_model().encode(
        [text for text, _ in examples], normalize_embeddings=True, show_progress_bar=False
    )
    pairs = near_duplicates(examples, np.asarray(vectors), args.threshold)
    print(f"near duplicates across labels (cosine >= {args.threshold}): {len(pairs)}")
    for pair in pairs[: args.limit]:
        print(
            f"  {pair.similarity:.3f}  {pair.first[1]}: {pair.first[0]!r}"
            f"  <->  {pair.second[1]}: {pair.second[0]!r}"
        )
    by_labels = Counter(tuple(sorted((p.first[1], p.second[1]))) for p in pairs)
    if by_labels:
        print("most confusable label pairs:")
        for (a, b), count in by_labels.most_common(15):
            print(f"  {count:3d}  {a} <-> {b}")
    return 1 if clashes else 0


if __name__ == "__main__":
    sys.exit(main())
