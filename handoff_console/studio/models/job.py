"""The training job: train a model, evaluate it, and add it to the registry.

``python -m handoff_console.studio.models.job --registry DIR --config FILE --bot-dir DIR
[--evaluate] [--baseline N] [--held-out FILE] [--source studio] [--by NAME]`` is what the
console's "Train" button and ``./ric nlu train`` run, in a process of its own (Rasa and
the fold models never load into the console). It reports on stdout, one JSON object a
line (:func:`report`)::

    {"event": "progress", "phase": "train", "fraction": 0.31, "message": "…"}
    {"event": "done", "version": 4}
    {"event": "error", "message": "…"}

Steps: copy the training inputs into a scratch folder and remove the held-out inbox
texts from the copy; ``rasa train`` on the copy (progress: the components Rasa reports
finished); with ``--evaluate``, cross-validate the NLU pipeline
(:func:`~handoff_console.studio.models.evaluation.cross_validate`), and score the new
model and the baseline (the live version) on the held-out messages; the baseline is
cross-validated too, from its snapshot, if it never was. Only one job runs at a time
per registry (a file lock, shared with the CLI).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import yaml

from handoff_console.studio.models.evaluation import cross_validate, score, score_model
from handoff_console.studio.models.heldout import drop_examples
from handoff_console.studio.models.registry import ModelRegistry, TrainingInputs

__all__ = [
    "JobBusy",
    "inputs_hash",
    "lock_held",
    "main",
    "report",
    "train_and_register",
    "training_lock",
]

PROJECT = Path(__file__).resolve().parents[3]
"""The project root: ``nlu_components`` (the custom pipeline components) is imported from it."""
TRAIN_SHARE = 0.45
"""The share of the progress bar the ``rasa train`` step takes when evaluating."""


class JobBusy(RuntimeError):
    """Another training job holds this registry's lock."""


def report(event: str, **values: Any) -> None:
    """Print one progress line (a JSON object) and flush it."""
    print(json.dumps({"event": event, **values}), flush=True)


def progress(phase: str, fraction: float, message: str) -> None:
    """Report progress ``fraction`` (0 to 1) of the whole job."""
    report(
        "progress", phase=phase, fraction=round(min(1.0, max(0.0, fraction)), 3), message=message
    )


def inputs_hash(inputs: TrainingInputs) -> str:
    """A hash of Rasa's version and every training input file (names and bytes)."""
    digest = hashlib.sha256(f"rasa=={package_version('rasa')}\n".encode())
    files = [inputs.config]
    for folder in (inputs.data, inputs.domain):
        files.extend(
            sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else [folder]
        )
    for path in files:
        digest.update(path.name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def training_lock(registry: ModelRegistry) -> Iterator[None]:
    """Hold the registry's training lock.

    Raises:
        JobBusy: Another job holds it.
    """
    registry.root.mkdir(parents=True, exist_ok=True)
    with open(registry.root / ".train.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusy("another model is being trained; wait for it to finish") from None
        yield


def lock_held(registry: ModelRegistry) -> bool:
    """Whether a training job (the console's or the CLI's) holds the registry's lock now."""
    if not registry.root.is_dir():
        return False
    with open(registry.root / ".train.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def _copy_inputs(inputs: TrainingInputs, target: Path) -> TrainingInputs:
    shutil.copyfile(inputs.config, target / "config.yml")
    shutil.copytree(inputs.data, target / "data")
    if inputs.domain.is_dir():
        shutil.copytree(inputs.domain, target / inputs.domain.name)
    else:
        shutil.copyfile(inputs.domain, target / inputs.domain.name)
    return TrainingInputs(target / "config.yml", target)


def _pipeline_size(config: Path) -> int:
    values = yaml.safe_load(config.read_text()) or {}
    return len(values.get("pipeline") or []) + len(values.get("policies") or [])


def _child_environment(cache: Path) -> dict[str, str]:
    """The environment of ``rasa train``: ours, plus its cache folder and the project."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "PYTHONPATH": str(PROJECT)}
    return env


def rasa_train(inputs: TrainingInputs, out: Path, share: float, cache: Path) -> Path:
    """Run ``rasa train`` on ``inputs``; report progress within the first ``share``.

    Raises:
        RuntimeError: Rasa failed (the last lines of its output are in the message).
    """
    command = [
        sys.executable, "-m", "rasa", "train", "--config", str(inputs.config),
        "--domain", str(inputs.domain), "--data", str(inputs.data),
        "--out", str(out), "--fixed-model-name", "candidate", "--force",
    ]  # fmt: skip
    # Roughly the components that train (tokenizers and the fallback classifier do not).
    expected = max(1, round(_pipeline_size(inputs.config) * 0.55))
    finished = 0
    tail: list[str] = []
    process = subprocess.Popen(
        command,
        cwd=out,
        env=_child_environment(cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        tail = [*tail[-30:], line.rstrip()]
        if "Finished training component" in line or "Restored component" in line:
            finished += 1
            component = line.rsplit("'", 2)[-2] if line.count("'") >= 2 else "a component"
            progress("train", share * min(0.95, finished / expected), f"trained {component}")
    if process.wait() != 0 or not (out / "candidate.tar.gz").is_file():
        raise RuntimeError("rasa train failed:\n" + "\n".join(tail[-12:]))
    return out / "candidate.tar.gz"


def _heldout_scores(
    model: Path, baseline: Path | None, held: list[tuple[str, str]]
) -> dict[str, Any]:
    texts, truth = [t for t, _ in held], [label for _, label in held]
    new = score_model(model, texts)
    live = score_model(baseline, texts) if baseline is not None else []
    messages = []
    for index, (text, label) in enumerate(held):
        row: dict[str, Any] = {"text": text, "label": label}
        row["predicted"], row["confidence"] = new[index][0], round(new[index][1], 4)
        row["passed"] = row["predicted"] == label
        if live:
            row["live_predicted"], row["live_passed"] = live[index][0], live[index][0] == label
        messages.append(row)
    return {
        "messages": messages,
        "new": score(truth, [p for p, _ in new]) if held else None,
        "live": score(truth, [p for p, _ in live]) if live else None,
    }


def _examples(inputs: TrainingInputs) -> list[tuple[str, str]]:
    """``(text, label)`` of every NLU example (rules and stories in the folder are skipped)."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(inputs.config),
        domain_path=str(inputs.domain),
        training_data_paths=[str(inputs.data)],
    )
    return [
        (str(m.get(TEXT)), str(m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)))
        for m in importer.get_nlu_data().intent_examples
        if m.get(TEXT)
    ]


def train_and_register(
    registry: ModelRegistry,
    inputs: TrainingInputs,
    *,
    evaluate: bool,
    folds: int,
    baseline: int | None,
    held: list[tuple[str, str]],
    source: str,
    created_by: str | None,
) -> int:
    """Every step of the job (see the module's docstring); returns the new version number."""
    started = time.monotonic()
    cache = registry.root / ".rasa-cache"
    with training_lock(registry), tempfile.TemporaryDirectory(dir=registry.root) as scratch:
        work = Path(scratch)
        progress("prepare", 0.0, "copying the training data")
        (work / "inputs").mkdir()
        (work / "out").mkdir()
        copy = _copy_inputs(inputs, work / "inputs")
        removed = drop_examples(copy.data, [text for text, _ in held])
        model = rasa_train(copy, work / "out", TRAIN_SHARE if evaluate else 1.0, cache)
        evaluation: dict[str, Any] | None = None
        if evaluate:
            evaluation = _evaluate(registry, copy, model, work, folds, baseline, held)
            evaluation["held_out_removed_from_training"] = removed
            evaluation["seconds"] = round(time.monotonic() - started, 1)
        progress("register", 0.99, "adding the model to the registry")
        added = registry.add(
            model,
            copy,
            source=source,
            data_hash=inputs_hash(inputs),
            created_by=created_by,
            evaluation=evaluation,
        )
    return added.number


def _evaluate(
    registry: ModelRegistry,
    inputs: TrainingInputs,
    model: Path,
    work: Path,
    folds: int,
    baseline: int | None,
    held: list[tuple[str, str]],
) -> dict[str, Any]:
    start, span = TRAIN_SHARE, 0.95 - TRAIN_SHARE
    with_baseline = (
        baseline is not None and (registry.get(baseline).evaluation or {}).get("cv") is None
    )
    steps = folds * (2 if with_baseline else 1) + 1

    def step(done: int, message: str) -> None:
        progress("evaluate", start + span * done / steps, message)

    step(0, f"cross-validating the NLU pipeline ({folds} folds)")
    cv = cross_validate(
        inputs.config, _examples(inputs), folds, work / "cv",
        lambda fold: step(fold, f"fold {fold} of {folds} done"),
    )  # fmt: skip
    if baseline is not None and with_baseline:
        snapshot = registry.snapshot_of(baseline)
        if snapshot is not None:
            old = TrainingInputs.unpack(snapshot, work / "baseline")
            old_cv = cross_validate(
                old.config, _examples(old), folds, work / "baseline-cv",
                lambda fold: step(folds + fold, f"live model v{baseline}: fold {fold} of {folds}"),
            )  # fmt: skip
            registry.set_evaluation(baseline, {"cv": old_cv, "held_out": None})
    step(steps - 1, f"scoring {len(held)} held-out inbox messages")
    live_model = registry.get(baseline).path if baseline is not None else None
    return {
        "cv": cv,
        "held_out": {**_heldout_scores(model, live_model, held), "baseline": baseline},
    }


def main(argv: list[str] | None = None) -> int:
    """Run one job; the last line printed says how it ended."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--bot-dir", type=Path, required=True)
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=None, help="the live version")
    parser.add_argument("--held-out", type=Path, default=None, help="JSON [[text, label], ...]")
    parser.add_argument("--source", default="studio")
    parser.add_argument("--by", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    held = [tuple(pair) for pair in json.loads(args.held_out.read_text())] if args.held_out else []
    try:
        number = train_and_register(
            ModelRegistry(args.registry),
            TrainingInputs(args.config, args.bot_dir),
            evaluate=args.evaluate,
            folds=args.folds,
            baseline=args.baseline,
            held=held,  # type: ignore[arg-type]
            source=args.source,
            created_by=args.by,
        )
    except Exception as error:
        logging.getLogger(__name__).exception("training job failed")
        report("error", message=str(error) or type(error).__name__)
        return 1
    report("done", version=number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
