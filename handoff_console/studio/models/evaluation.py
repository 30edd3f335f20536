"""Evaluate a model before it goes live: cross-validation and the held-out inbox messages.

Runs inside the training job (:mod:`handoff_console.studio.models.job`), never in the
console process: it imports Rasa and trains fold models.

* **Cross-validation.** ``k`` stratified folds (``RIC_STUDIO_CV_FOLDS``, 3 by default;
  seed 42, so two versions of the same data split alike) of the NLU examples. Each fold
  model is the NLU pipeline of ``config.yml`` trained on the other folds; it parses its
  fold through Rasa's ``Agent``, the whole pipeline, fallback included. Labels keep FAQ
  topics (``faq/opening_hours``), so a new topic gets its own F1. ``nlu_fallback`` (or
  any other intent a late component sets) counts as wrong.
* **Held-out inbox messages.** Reader messages an admin assigned to an intent or topic
  in the NLU inbox (:mod:`handoff_console.studio.models.heldout` picks a stable share of
  them and the job keeps those out of the training data); each model parses them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "LabelledText",
    "cross_validate",
    "parse_label",
    "score",
    "score_model",
    "write_nlu",
]

LabelledText = tuple[str, str]
"""``(text, label)``; FAQ labels keep their topic (``faq/opening_hours``)."""
SEED = 42
CONFUSIONS_SHOWN = 15


def write_nlu(path: Path, examples: list[LabelledText]) -> None:
    """Write ``examples`` as a Rasa 3 NLU file, one block per label."""
    grouped: dict[str, list[str]] = {}
    for text, label in examples:
        grouped.setdefault(label, []).append(text)
    blocks = [
        {"intent": label, "examples": "\n".join(f"- {' '.join(t.split())}" for t in texts) + "\n"}
        for label, texts in sorted(grouped.items())
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True))


def parse_label(result: dict[str, Any]) -> tuple[str, float]:
    """The label a parse result amounts to (``faq/<topic>`` for FAQ), and its confidence."""
    intent = result.get("intent") or {}
    name = str(intent.get("name"))
    confidence = float(intent.get("confidence") or 0.0)
    if name == "faq":
        selector = result.get("response_selector") or {}
        response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
        return str(response.get("intent_response_key") or "faq"), confidence
    return name, confidence


async def _parse(model: str, texts: list[str]) -> list[tuple[str, float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [parse_label(await agent.parse_message(text)) for text in texts]


def score_model(model: Path | str, texts: list[str]) -> list[tuple[str, float]]:
    """Parse ``texts`` with a model file; the label and confidence of each."""
    if not texts:
        return []
    return asyncio.run(_parse(str(model), texts))


def score(truth: list[str], predicted: list[str]) -> dict[str, Any]:
    """Per-label precision, recall, F1 and support; macro F1; the commonest confusions.

    Args:
        truth: The true label of each message.
        predicted: The predicted label of each.

    Returns:
        ``{"macro_f1", "accuracy", "labels": {label: {precision, recall, f1, support}},
        "confusions": [{"truth", "predicted", "count"}, ...]}`` (most frequent first).
    """
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    per_label = {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    mistakes = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return {
        "macro_f1": round(float(f1.mean()) if labels else 0.0, 4),
        "accuracy": round(
            sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(1, len(truth)), 4
        ),
        "labels": per_label,
        "confusions": [
            {"truth": t, "predicted": p, "count": n}
            for (t, p), n in mistakes.most_common(CONFUSIONS_SHOWN)
        ],
    }


def _train_fold(config: Path, examples: list[LabelledText], work: Path) -> str:
    from rasa.model_training import train_nlu

    work.mkdir(parents=True, exist_ok=True)
    data = work / "nlu.yml"
    write_nlu(data, examples)
    model = train_nlu(str(config), str(data), str(work), fixed_model_name="fold")
    if model is None:
        raise RuntimeError(f"the NLU pipeline of {config} did not train on fold data")
    return str(model)


def cross_validate(
    config: Path,
    examples: list[LabelledText],
    folds: int,
    work: Path,
    progress: Callable[[int], None] = lambda _fold: None,
) -> dict[str, Any]:
    """Stratified ``folds``-fold cross-validation of the NLU pipeline of ``config``.

    Labels with fewer examples than ``folds`` are kept in every training split and
    never tested (they cannot be stratified).

    Args:
        config: The ``config.yml`` (only its NLU pipeline is trained).
        examples: Every NLU example.
        folds: How many folds.
        work: A scratch folder for the fold models.
        progress: Called with the number of folds done.

    Returns:
        :func:`score` of the out-of-fold predictions, plus ``folds`` and ``examples``.
    """
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(label for _, label in examples)
    testable = [e for e in examples if counts[e[1]] >= folds]
    always_train = [e for e in examples if counts[e[1]] < folds]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    truth: list[str] = []
    predicted: list[str] = []
    for fold, (train, test) in enumerate(splitter.split(testable, [e[1] for e in testable])):
        model = _train_fold(
            config, [testable[i] for i in train] + always_train, work / f"fold{fold}"
        )
        tested = [testable[i] for i in test]
        truth.extend(label for _, label in tested)
        predicted.extend(label for label, _ in score_model(model, [text for text, _ in tested]))
        progress(fold + 1)
    return {
        **score(truth, predicted),
        "folds": folds,
        "examples": len(examples),
        "untested_labels": sorted({label for _, label in always_train}),
    }
