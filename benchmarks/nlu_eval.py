"""Evaluate the shipped NLU pipeline against the previous DIET one, side by side.

For each pipeline (``shipped`` is ``config.yml``; ``diet`` is
``benchmarks/configs/diet.yml``, the DIET + ResponseSelector pipeline shipped before):

1. **Cross-validation.** Five stratified folds of ``bot/data/nlu`` (the same split for
   both pipelines). Each fold model is trained in this process and parses its test
   fold through Rasa's ``Agent`` (the whole NLU pipeline, fallback included).
2. **Held-out reader phrasings.** A model trained on all the data parses
   ``benchmarks/data/reader_phrasings.yml``, which is never trained on.
3. **Cold training time**: ``rasa train`` (NLU and dialogue policies) in a fresh
   process with an empty Rasa cache, wall clock.
4. **Parse latency**: p50 and p99 of ``Agent.parse_message`` over the held-out messages.
5. **Calibration**: the expected calibration error (ECE, 10 bins) of the top intent's
   confidence on the out-of-fold predictions, and the reliability table.
6. **The fallback curve** (shipped only): for each ``nlu_fallback`` threshold, the share
   of messages that would fall back and the accuracy of those answered.

Scoring: FAQ topics are folded into ``faq`` for the intent macro-F1; ``nlu_fallback``
(and any other intent a later component sets, such as ``multiple_requests``) counts as
wrong. FAQ accuracy is the share of ``faq/<topic>`` messages whose predicted intent is
``faq`` *and* whose selected topic is right.

The DIET pipeline trains for minutes per model, so its figures are cached in
``benchmarks/results/`` under a hash of the data and its config and only recomputed with
``--refresh``; the shipped pipeline is always measured (about 5 minutes on 2 cores).

Run: ``.venv/bin/python -m benchmarks.nlu_eval [--pipelines shipped diet] [--refresh]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nlu_components.data_check import load_examples

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = {"shipped": ROOT / "config.yml", "diet": ROOT / "benchmarks" / "configs" / "diet.yml"}
NLU_DATA = ROOT / "bot" / "data" / "nlu"
HELD_OUT = ROOT / "benchmarks" / "data" / "reader_phrasings.yml"
RESULTS = ROOT / "benchmarks" / "results"
FOLDS = 5
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass
class Prediction:
    """One parsed message: the truth, the prediction and its confidence."""

    label: str
    intent: str
    topic: str | None
    confidence: float
    raw_intent: str
    raw_confidence: float


@dataclass
class Scores:
    """Figures for one pipeline."""

    name: str
    folds: int = FOLDS
    cv_only: bool = False
    cv_intent_f1: float = 0.0
    cv_faq_accuracy: float = 0.0
    cv_ece: float = 0.0
    heldout_intent_f1: float = 0.0
    heldout_faq_accuracy: float = 0.0
    heldout_ece: float = 0.0
    train_seconds: float = 0.0
    parse_p50_ms: float = 0.0
    parse_p99_ms: float = 0.0
    curve: list[dict[str, float]] = field(default_factory=list)
    reliability: list[dict[str, float]] = field(default_factory=list)


def _top(label: str) -> str:
    return label.split("/", 1)[0]


def intent_f1(predictions: list[Prediction]) -> float:
    """Macro-F1 over the true intents (FAQ folded into ``faq``)."""
    from sklearn.metrics import f1_score

    truth = [_top(p.label) for p in predictions]
    guess = [p.intent for p in predictions]
    return float(f1_score(truth, guess, average="macro", labels=sorted(set(truth))))


def faq_accuracy(predictions: list[Prediction]) -> float:
    """Share of FAQ messages answered with the right topic."""
    faq = [p for p in predictions if p.label.startswith("faq/")]
    return sum(p.intent == "faq" and p.topic == p.label for p in faq) / max(1, len(faq))


def _correct_raw(p: Prediction) -> bool:
    if p.label.startswith("faq/"):
        return p.raw_intent == "faq" and p.topic == p.label
    return p.raw_intent == p.label


def ece(predictions: list[Prediction]) -> tuple[float, list[dict[str, float]]]:
    """ECE of the raw (pre-fallback) top confidence, and the reliability table."""
    from nlu_components.calibration import expected_calibration_error, reliability

    confidence = np.array([p.raw_confidence for p in predictions])
    correct = np.array([_correct_raw(p) for p in predictions])
    table = [asdict(b) for b in reliability(confidence, correct)]
    return expected_calibration_error(confidence, correct), table


def fallback_curve(predictions: list[Prediction]) -> list[dict[str, float]]:
    """Share falling back and accuracy of the answered ones, per threshold."""
    rows = []
    for threshold in THRESHOLDS:
        answered = [p for p in predictions if p.raw_confidence >= threshold]
        rows.append(
            {
                "threshold": threshold,
                "fallback_share": 1 - len(answered) / len(predictions),
                "answered_accuracy": sum(map(_correct_raw, answered)) / max(1, len(answered)),
                "overall_accuracy": sum(map(_correct_raw, answered)) / len(predictions),
            }
        )
    return rows


def _write_nlu(path: Path, examples: list[tuple[str, str]]) -> None:
    import yaml

    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(text)
    nlu = [
        {"intent": label, "examples": "".join(f"- {json.dumps(t)[1:-1]}\n" for t in texts)}
        for label, texts in sorted(by_label.items())
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True))


def train_nlu(config: Path, examples: list[tuple[str, str]], work: Path) -> str:
    """Train an NLU model in this process on ``examples``; return its path."""
    from rasa.model_training import train_nlu as rasa_train_nlu

    data = work / "train.yml"
    _write_nlu(data, examples)
    model = rasa_train_nlu(str(config), str(data), str(work), fixed_model_name="model")
    if model is None:
        raise RuntimeError(f"training failed for {config}")
    return model


async def parse_all(
    model: str, examples: list[tuple[str, str]]
) -> tuple[list[Prediction], list[float]]:
    """Parse every example with the model; return predictions and per-parse seconds."""
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import (
        is_fallback_classifier_prediction,
        undo_fallback_prediction,
    )

    agent = Agent.load(model)
    predictions, seconds = [], []
    for text, label in examples:
        started = time.perf_counter()
        result = await agent.parse_message(text)
        seconds.append(time.perf_counter() - started)
        raw = (
            undo_fallback_prediction(result)
            if is_fallback_classifier_prediction(result)
            else result
        )
        selector = result.get("response_selector") or {}
        response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
        predictions.append(
            Prediction(
                label=label,
                intent=str(result["intent"].get("name")),
                topic=response.get("intent_response_key"),
                confidence=float(result["intent"].get("confidence") or 0.0),
                raw_intent=str(raw["intent"].get("name")),
                raw_confidence=float(raw["intent"].get("confidence") or 0.0),
            )
        )
    return predictions, seconds


def cold_train(config: Path, work: Path) -> tuple[str, float]:
    """Run a cold ``rasa train`` (NLU and policies) in a fresh process.

    Returns:
        The model's path and the wall time in seconds.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_CACHE_DIRECTORY": str(work / "cache")}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--config", str(config),
         "--domain", str(ROOT / "bot" / "domain"), "--data", str(ROOT / "bot" / "data"),
         "--out", str(work), "--fixed-model-name", "cold"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return str(work / "cold.tar.gz"), time.perf_counter() - started


def evaluate(name: str, config: Path, work: Path, folds: int, cv_only: bool = False) -> Scores:
    """All figures for one pipeline (no cross-validation when ``folds`` < 2).

    With ``cv_only``, only the cross-validation runs (no cold train, held-out or latency).
    """
    from sklearn.model_selection import StratifiedKFold

    examples = load_examples(NLU_DATA)
    held_out = load_examples(HELD_OUT)
    scores = Scores(name, folds=folds, cv_only=cv_only)
    if folds >= 2:
        out_of_fold: list[Prediction] = []
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
        labels = [label for _, label in examples]
        for fold, (train, test) in enumerate(splitter.split(examples, labels)):
            fold_dir = work / f"{name}-fold{fold}"
            fold_dir.mkdir(parents=True)
            model = train_nlu(config, [examples[i] for i in train], fold_dir)
            predicted, _ = asyncio.run(parse_all(model, [examples[i] for i in test]))
            out_of_fold.extend(predicted)
            print(f"  {name}: fold {fold + 1}/{folds} done", flush=True)
        scores.cv_intent_f1 = intent_f1(out_of_fold)
        scores.cv_faq_accuracy = faq_accuracy(out_of_fold)
        scores.cv_ece, scores.reliability = ece(out_of_fold)
        scores.curve = fallback_curve(out_of_fold)
    if cv_only:
        return scores
    full_dir = work / f"{name}-full"
    full_dir.mkdir()
    # The cold-trained full model (NLU and policies) is the one scored on the held-out set.
    model, scores.train_seconds = cold_train(config, full_dir)
    # One model load: the first pass is scored, both passes are timed.
    predicted, seconds = asyncio.run(parse_all(model, held_out * 2))
    predicted = predicted[: len(held_out)]
    scores.heldout_intent_f1 = intent_f1(predicted)
    scores.heldout_faq_accuracy = faq_accuracy(predicted)
    scores.heldout_ece, _ = ece(predicted)
    millis = sorted(s * 1000 for s in seconds)
    scores.parse_p50_ms = statistics.median(millis)
    scores.parse_p99_ms = millis[min(len(millis) - 1, int(len(millis) * 0.99))]
    for p in predicted:
        wrong_topic = p.label.startswith("faq/") and p.topic != p.label
        if p.intent != _top(p.label) or wrong_topic:
            topic = f" {p.topic}" if p.intent == "faq" else ""
            print(f"    held-out miss: {p.label} -> {p.intent}{topic} ({p.confidence:.2f})")
    return scores


def data_hash(config: Path) -> str:
    """Hash of the config, the training data, the held-out set and this script."""
    digest = hashlib.sha256()
    for path in [config, HELD_OUT, Path(__file__), *sorted(NLU_DATA.glob("*.yml"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def format_table(results: list[Scores]) -> str:
    """The side-by-side table printed at the end."""
    rows = [
        ("5-fold CV intent macro-F1", "cv_intent_f1", "{:.3f}"),
        ("5-fold CV FAQ accuracy", "cv_faq_accuracy", "{:.3f}"),
        ("5-fold CV calibration (ECE)", "cv_ece", "{:.3f}"),
        ("reader_phrasings intent macro-F1", "heldout_intent_f1", "{:.3f}"),
        ("reader_phrasings FAQ accuracy", "heldout_faq_accuracy", "{:.3f}"),
        ("reader_phrasings calibration (ECE)", "heldout_ece", "{:.3f}"),
        ("cold rasa train (s)", "train_seconds", "{:.0f}"),
        ("parse p50 (ms)", "parse_p50_ms", "{:.1f}"),
        ("parse p99 (ms)", "parse_p99_ms", "{:.1f}"),
    ]
    lines = [
        f"| figure | {' | '.join(r.name for r in results)} |",
        "|---" * (len(results) + 1) + "|",
    ]
    for title, attribute, fmt in rows:
        cells = " | ".join(
            "not run"
            if (r.folds < 2 if attribute.startswith("cv_") else r.cv_only)
            else fmt.format(getattr(r, attribute))
            for r in results
        )
        lines.append(f"| {title} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Evaluate the chosen pipelines and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", nargs="+", default=list(PIPELINES), choices=list(PIPELINES))
    parser.add_argument("--refresh", action="store_true", help="recompute cached DIET figures")
    parser.add_argument(
        "--cv-only", action="store_true", help="only the cross-validation (no cold train)"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="copy each cold-trained model here (<name>.tar.gz)"
    )
    parser.add_argument(
        "--folds", type=int, default=FOLDS, help="cross-validation folds (0: no cross-validation)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    RESULTS.mkdir(exist_ok=True)
    results = []
    for name in args.pipelines:
        config = PIPELINES[name]
        suffix = "-cv" if args.cv_only else ""
        cache = RESULTS / f"{name}-{data_hash(config)}-{args.folds}folds{suffix}.json"
        if name != "shipped" and cache.exists() and not args.refresh:
            print(f"{name}: cached figures from {cache.relative_to(ROOT)}")
            results.append(Scores(**json.loads(cache.read_text())))
            continue
        print(f"{name}: evaluating {config.relative_to(ROOT)}", flush=True)
        with tempfile.TemporaryDirectory() as work:
            result = evaluate(name, config, Path(work), args.folds, args.cv_only)
            if args.keep is not None and not args.cv_only:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(
                    Path(work) / f"{name}-full" / "cold.tar.gz", args.keep / f"{name}.tar.gz"
                )
        cache.write_text(json.dumps(asdict(result), indent=1))
        results.append(result)
    for result in (r for r in results if r.reliability):
        print(
            f"\n{result.name}: reliability on out-of-fold predictions "
            "(confidence bin: n, mean confidence, accuracy)"
        )
        for b in result.reliability:
            print(
                f"  [{b['low']:.1f}, {b['high']:.1f}): {b['count']:4d}  "
                f"{b['mean_confidence']:.2f}  {b['accuracy']:.2f}"
            )
        print(f"{result.name}: nlu_fallback threshold curve (out-of-fold)")
        for row in result.curve:
            print(
                f"  threshold {row['threshold']:.1f}: falls back {row['fallback_share']:.3f}, "
                f"answered accuracy {row['answered_accuracy']:.3f}, "
                f"overall {row['overall_accuracy']:.3f}"
            )
    print()
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
