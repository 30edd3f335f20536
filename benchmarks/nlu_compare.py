"""Compare NLU pipelines: cross-validated accuracy, training time and parse latency.

For each pipeline in ``benchmarks/configs/`` (``baseline`` is a frozen copy of
``config.yml``; the others differ from it only in their featurizers) this runs, one after
another so that only one training is ever running:

1. ``rasa test nlu --cross-validation --folds 5`` on ``bot/data``, and reads the
   accumulated test-fold ``intent_report.json`` and ``response_selection_report.json``;
2. one full cold ``rasa train nlu`` (fresh Rasa cache), timed by wall clock;
3. in a fresh process, ``Agent.load`` on that model and ``parse_message`` over
   ``--messages`` training utterances, reporting p50/p99 latency.

A five-fold run trains each pipeline six times. When that is too slow for the machine,
``--holdout 0.2`` replaces steps 1 and 2 with one stratified split (the same seed, so the
same test set, for every pipeline): the timed training is on the other 80 % and the
figures come from ``rasa test nlu --model`` on the held-out 20 %.

Run: ``.venv/bin/python -m benchmarks.nlu_compare [--folds 5 | --holdout 0.2]
[--messages 200] [--pipelines baseline semantic semantic_no_char] [--json results.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "benchmarks" / "configs"
PIPELINES: dict[str, Path] = {
    "baseline": CONFIGS / "baseline.yml",
    "semantic": CONFIGS / "semantic.yml",
    "semantic_no_char": CONFIGS / "semantic_no_char.yml",
    "tuned": CONFIGS / "tuned.yml",
}
NLU_DATA = ROOT / "bot" / "data"
DOMAIN = ROOT / "bot" / "domain"
RETRIEVAL_INTENT = "faq"


@dataclass
class PipelineResult:
    """Figures for one pipeline; accuracies are over the accumulated test folds."""

    name: str
    intent_macro_f1: float
    intent_accuracy: float
    faq_accuracy: float
    faq_macro_f1: float
    train_seconds: float
    cv_seconds: float
    parse_p50_ms: float
    parse_p99_ms: float


def _rasa_env(cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # A private cache keeps runs cold and leaves the shared ~/.rasa cache alone.
    env["RASA_CACHE_DIRECTORY"] = str(cache_dir)
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    return env


def _run(args: list[str], cache_dir: Path, log: Path) -> float:
    """Run a Rasa CLI command, log its output, and return its wall time in seconds."""
    started = time.perf_counter()
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "-m", "rasa", *args],
            cwd=ROOT,
            env=_rasa_env(cache_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return time.perf_counter() - started


def read_reports(out_dir: Path) -> dict[str, float]:
    """Read intent and response-selection figures from a ``rasa test nlu`` output folder.

    Args:
        out_dir: The ``--out`` folder of a cross-validation run.

    Returns:
        Intent macro-F1 and accuracy, and FAQ response-selection accuracy and macro-F1.
    """
    intents = json.loads((out_dir / "intent_report.json").read_text())
    responses = json.loads((out_dir / "response_selection_report.json").read_text())
    return {
        "intent_macro_f1": float(intents["macro avg"]["f1-score"]),
        "intent_accuracy": float(intents["accuracy"]),
        "faq_accuracy": float(responses["accuracy"]),
        "faq_macro_f1": float(responses["macro avg"]["f1-score"]),
    }


def sample_messages(count: int, seed: int = 7) -> list[str]:
    """Pick ``count`` NLU example texts (with repeats if needed), deterministically."""
    from rasa.shared.nlu.training_data.loading import load_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        data = load_data(str(NLU_DATA / "nlu"))
    texts = sorted({m.get("text") for m in data.intent_examples if m.get("text")})
    rng = random.Random(seed)
    return [rng.choice(texts) for _ in range(count)]


def measure_latency(model_path: str, count: int) -> dict[str, float]:
    """Load a model in this process and time ``Agent.parse_message`` on ``count`` messages.

    Args:
        model_path: A trained model archive.
        count: How many messages to parse (after 10 warm-up parses).

    Returns:
        p50 and p99 parse latency in milliseconds, and the model load time in seconds.
    """
    from rasa.core.agent import Agent

    messages = sample_messages(count)
    started = time.perf_counter()
    agent = Agent.load(model_path)
    load_seconds = time.perf_counter() - started

    async def _parse_all() -> list[float]:
        for text in messages[:10]:
            await agent.parse_message(text)
        latencies = []
        for text in messages:
            t0 = time.perf_counter()
            await agent.parse_message(text)
            latencies.append((time.perf_counter() - t0) * 1000)
        return latencies

    latencies = asyncio.run(_parse_all())
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": statistics.median(latencies), "p99_ms": cuts[98], "load_s": load_seconds}


def split_data(work: Path, test_fraction: float, seed: int = 42) -> tuple[Path, Path]:
    """Write one stratified train/test split of the NLU data and return both files.

    Args:
        work: Where to write ``holdout-train.yml`` and ``holdout-test.yml``.
        test_fraction: Share of examples held out, e.g. 0.2.
        seed: Random seed, so every pipeline sees the same split.

    Returns:
        The training file and the test file.
    """
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data

    with warnings.catch_warnings():
        # Responses live in the domain, so every retrieval example would warn here.
        warnings.simplefilter("ignore", UserWarning)
        data = load_data(str(NLU_DATA / "nlu"))
    train, test = data.train_test_split(train_frac=1 - test_fraction, random_seed=seed)
    train_file, test_file = work / "holdout-train.yml", work / "holdout-test.yml"
    if not train_file.exists():
        RasaYAMLWriter().dump(train_file, train)
        RasaYAMLWriter().dump(test_file, test)
    return train_file, test_file


def _train(name: str, config: Path, nlu: Path, work: Path) -> tuple[Path, float]:
    models = work / f"{name}-models"
    seconds = _run(
        [
            "train", "nlu", "--nlu", str(nlu), "--config", str(config),
            "--domain", str(DOMAIN), "--out", str(models), "--fixed-model-name", name,
        ],
        work / f"{name}-train-cache",
        work / f"{name}-train.log",
    )  # fmt: skip
    return next(models.glob(f"{name}*.tar.gz")), seconds


def _latency(name: str, model_path: Path, work: Path, messages: int) -> dict[str, float]:
    # A fresh process per model, so one pipeline's warm caches never help another.
    latency_json = subprocess.run(
        [sys.executable, "-m", "benchmarks.nlu_compare", "--latency-of", str(model_path),
         "--messages", str(messages)],
        cwd=ROOT,
        env=_rasa_env(work / f"{name}-train-cache"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    result: dict[str, float] = json.loads(latency_json)
    return result


def run_pipeline_holdout(
    name: str, config: Path, work: Path, test_fraction: float, messages: int
) -> PipelineResult:
    """Train one pipeline on a fixed split, test it on the held-out part, and time it.

    Args:
        name: Pipeline label.
        config: Its Rasa config file.
        work: A scratch directory for outputs, models and caches.
        test_fraction: Share of examples held out.
        messages: Messages for the latency measurement.

    Returns:
        The pipeline's figures (``cv_seconds`` is the time of the test run).
    """
    train_file, test_file = split_data(work, test_fraction)
    print(f"[{name}] training on the {1 - test_fraction:.0%} split...", flush=True)
    model_path, train_seconds = _train(name, config, train_file, work)
    out = work / f"{name}-holdout"
    test_seconds = _run(
        [
            "test", "nlu", "--model", str(model_path), "--nlu", str(test_file),
            "--domain", str(DOMAIN), "--out", str(out), "--no-plot",
        ],
        work / f"{name}-train-cache",
        work / f"{name}-test.log",
    )  # fmt: skip
    scores = read_reports(out)
    print(f"[{name}] {scores} (train {train_seconds:.0f}s); parse latency...", flush=True)
    return _timed_result(name, model_path, work, messages, train_seconds, test_seconds, scores)


def _timed_result(
    name: str,
    model_path: Path,
    work: Path,
    messages: int,
    train_seconds: float,
    eval_seconds: float,
    scores: dict[str, float],
) -> PipelineResult:
    """Measure the model's parse latency and gather one pipeline's figures."""
    latency = _latency(name, model_path, work, messages)
    return PipelineResult(
        name=name,
        train_seconds=train_seconds,
        cv_seconds=eval_seconds,
        parse_p50_ms=latency["p50_ms"],
        parse_p99_ms=latency["p99_ms"],
        **scores,
    )


def run_pipeline(name: str, config: Path, work: Path, folds: int, messages: int) -> PipelineResult:
    """Cross-validate, train and time one pipeline.

    Args:
        name: Pipeline label.
        config: Its Rasa config file.
        work: A scratch directory for outputs, models and caches.
        folds: Cross-validation folds.
        messages: Messages for the latency measurement.

    Returns:
        The pipeline's figures.
    """
    cv_out = work / f"{name}-cv"
    print(f"[{name}] cross-validation ({folds} folds)...", flush=True)
    cv_seconds = _run(
        [
            "test", "nlu", "--nlu", str(NLU_DATA), "--config", str(config),
            "--domain", str(DOMAIN), "--cross-validation", "--folds", str(folds),
            "--out", str(cv_out), "--no-plot",
        ],
        work / f"{name}-cv-cache",
        work / f"{name}-cv.log",
    )  # fmt: skip
    scores = read_reports(cv_out)
    print(f"[{name}] {scores} (cv {cv_seconds:.0f}s); full train...", flush=True)
    model_path, train_seconds = _train(name, config, NLU_DATA, work)
    print(f"[{name}] trained in {train_seconds:.0f}s; parse latency...", flush=True)
    return _timed_result(name, model_path, work, messages, train_seconds, cv_seconds, scores)


def format_table(results: list[PipelineResult]) -> str:
    """Render the results as a Markdown table."""
    lines = [
        "| pipeline | intent macro-F1 | intent accuracy | FAQ accuracy | FAQ macro-F1 "
        "| full train (s) | parse p50 (ms) | parse p99 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.intent_macro_f1:.3f} | {r.intent_accuracy:.3f} "
            f"| {r.faq_accuracy:.3f} | {r.faq_macro_f1:.3f} | {r.train_seconds:.0f} "
            f"| {r.parse_p50_ms:.1f} | {r.parse_p99_ms:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a Markdown table (and optionally write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--holdout", type=float, default=None, help="test fraction; replaces cross-validation"
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--pipelines", nargs="+", choices=sorted(PIPELINES), default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--keep", type=Path, default=None, help="scratch dir to keep outputs")
    parser.add_argument("--latency-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.latency_of:
        print(json.dumps(measure_latency(args.latency_of, args.messages)))
        return 0

    names = args.pipelines or list(PIPELINES)
    results: list[PipelineResult] = []
    with tempfile.TemporaryDirectory(prefix="nlu-compare-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for name in names:
            if args.holdout:
                result = run_pipeline_holdout(
                    name, PIPELINES[name], work, args.holdout, args.messages
                )
            else:
                result = run_pipeline(name, PIPELINES[name], work, args.folds, args.messages)
            results.append(result)
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
