"""``./ric nlu train|models|activate|rollback``: the studio's Models page in a terminal.

* ``train [--evaluate]`` runs the same training job as the studio's "Train" button
  (:mod:`handoff_console.studio.models.job`) on the studio's training data
  (``RIC_STUDIO_BOT_DIR``, ``RIC_STUDIO_CONFIG_FILE``), prints its progress, adds the
  model to the registry (``RIC_MODEL_REGISTRY``) and, with ``--evaluate``, prints the
  comparison with the live model;
* ``models`` lists the versions;
* ``activate <version> [--override --reason TEXT]`` loads a version into the running
  Rasa server (``PUT /model``), refusing a regression unless overridden; audited;
* ``rollback`` makes the previous live version live again.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError

from crm_store.db import make_engine, make_session_factory
from handoff_console.studio.models import ModelVersion, RegistryError, parse_version
from handoff_console.studio.models.activation import (
    ActivationError,
    RegressionBlocked,
    activate,
    live_version,
    record_activation,
)
from handoff_console.studio.models.comparison import compare
from handoff_console.studio.models.heldout import held_out, labelled_messages
from handoff_console.studio.models.settings import ModelsSettings
from launcher.settings import ROOT, Settings, load_settings

__all__ = ["add_model_commands", "command_activate", "command_models", "command_train"]


def _who() -> str:
    return f"cli:{getpass.getuser()}"


def _live(settings: Settings, models: ModelsSettings) -> ModelVersion | None:
    try:
        version, _file = asyncio.run(
            live_version(models.registry, settings.rasa_url, settings.rasa_token)
        )
    except ActivationError:
        return None
    return version


def _labelled(settings: Settings) -> list[tuple[str, str]]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return labelled_messages(session)
    except (OperationalError, ProgrammingError) as error:
        print(f"  (no inbox labels read: {error.orig}; the held-out set is empty)")
        return []
    finally:
        engine.dispose()


def print_comparison(comparison: dict[str, Any]) -> None:
    """The comparison as a few lines of text."""
    macro = comparison["macro_f1"]
    live, new = macro["live"], macro["new"]
    print(
        f"{comparison['version']} against live {comparison['live_version'] or '(none)'}: "
        f"macro F1 {'-' if live is None else f'{live:.3f}'} -> "
        f"{'-' if new is None else f'{new:.3f}'}"
    )
    for row in comparison["intents"]:
        if row["regressed"] or row["added"] or row["removed"]:
            state = "REGRESSED" if row["regressed"] else "new" if row["added"] else "removed"
            print(f"  {row['label']:<40} {row['live_f1']} -> {row['new_f1']} {state}")
    held = comparison["held_out"]
    print(
        f"  held-out inbox messages: {held['count']} (accuracy {held['live_accuracy']} -> "
        f"{held['new_accuracy']}; {held['now_pass']} now pass, {held['now_fail']} now fail)"
    )
    for note in comparison["notes"]:
        print(f"  note: {note}")
    if comparison["blocked"]:
        print("  BLOCKED: " + "; ".join(comparison["regressions"]))
        print("  (activate anyway with --override --reason '...')")


def command_train(args: argparse.Namespace) -> int:
    """Train (and evaluate) a model into the registry; exit 1 if the job fails."""
    settings, models = load_settings(), ModelsSettings.from_env()
    live = _live(settings, models)
    held = held_out(_labelled(settings)) if args.evaluate else []
    held_file = models.registry.root / "logs" / f"cli-{os.getpid()}-held-out.json"
    held_file.parent.mkdir(parents=True, exist_ok=True)
    held_file.write_text(json.dumps(held))
    command = [
        sys.executable, "-m", "handoff_console.studio.models.job",
        "--registry", str(models.registry.root), "--config", str(models.inputs.config),
        "--bot-dir", str(models.inputs.bot_dir), "--source", "cli", "--by", _who(),
        "--folds", str(args.folds or models.folds), "--held-out", str(held_file),
    ]  # fmt: skip
    if args.evaluate:
        command.append("--evaluate")
    if live is not None:
        command += ["--baseline", str(live.number)]
    print(f"Training from {models.inputs.bot_dir} into {models.registry.root}")
    version: int | None = None
    error = "the training job failed"
    # From the project root, python -m finds the project's packages.
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as job:
        assert job.stdout is not None
        for line in job.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "progress":
                print(f"  [{round(100 * event['fraction']):3d}%] {event['message']}", flush=True)
            elif event.get("event") == "done":
                version = int(event["version"])
            elif event.get("event") == "error":
                error = str(event.get("message"))
    held_file.unlink(missing_ok=True)
    if job.returncode != 0 or version is None:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"Trained v{version}: {models.registry.root / f'v{version}.tar.gz'}")
    if args.evaluate:
        print_comparison(compare(models.registry.get(version), live, models.tolerance))
    print(f"Make it live with: ./ric nlu activate v{version}")
    return 0


def command_models(_: argparse.Namespace) -> int:
    """List the registry's versions, newest first."""
    settings, models = load_settings(), ModelsSettings.from_env()
    live, active = _live(settings, models), models.registry.active()
    for version in reversed(models.registry.versions()):
        cv = (version.evaluation or {}).get("cv")
        f1 = "not evaluated" if cv is None else f"macro F1 {cv['macro_f1']:.3f}"
        marks = [
            mark
            for mark, holder in (("live", live), ("active", active))
            if holder is not None and holder.number == version.number
        ]
        print(
            f"{version.label:<5} {version.created_at:%Y-%m-%d %H:%M} {version.source:<8} "
            f"{version.created_by or '-':<16} {f1:<18} {' '.join(marks)}"
        )
    return 0


def _make_live(number: int, *, override: bool, reason: str, rollback: bool) -> int:
    settings, models = load_settings(), ModelsSettings.from_env()
    try:
        active, judged = asyncio.run(
            activate(
                models.registry,
                number,
                rasa_url=settings.rasa_url,
                token=settings.rasa_token,
                activated_by=_who(),
                tolerance=models.tolerance,
                override=override,
                rollback=rollback,
            )
        )
    except RegressionBlocked as blocked:
        print_comparison(blocked.comparison)
        return 1
    except (ActivationError, RegistryError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    with make_session_factory(engine).begin() as session:
        record_activation(session, None, active, judged, reason)
    engine.dispose()
    print(f"{active.label} is live ({active.how}); roll back with ./ric nlu rollback")
    return 0


def command_activate(args: argparse.Namespace) -> int:
    """Load a version into the running Rasa server; exit 1 if blocked or Rasa refuses."""
    try:
        number = parse_version(args.version)
    except RegistryError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 2
    if args.override and not args.reason.strip():
        print("FAILED: --override needs --reason", file=sys.stderr)
        return 2
    return _make_live(number, override=args.override, reason=args.reason.strip(), rollback=False)


def command_rollback(_: argparse.Namespace) -> int:
    """Make the previous live version live again."""
    active = ModelsSettings.from_env().registry.active()
    if active is None or active.previous is None:
        print("FAILED: no earlier live version is recorded", file=sys.stderr)
        return 1
    return _make_live(active.previous, override=False, reason="", rollback=True)


def add_model_commands(nlu_commands: Any) -> None:
    """Add ``train``, ``models``, ``activate`` and ``rollback`` to ``./ric nlu``."""
    train = nlu_commands.add_parser("train", help="train a model into the registry")
    train.add_argument("--evaluate", action="store_true", help="cross-validate and compare")
    train.add_argument("--folds", type=int, default=None, help="folds (RIC_STUDIO_CV_FOLDS)")
    train.set_defaults(func=command_train)
    nlu_commands.add_parser("models", help="list the model versions").set_defaults(
        func=command_models
    )
    activate_parser = nlu_commands.add_parser("activate", help="make a version live (PUT /model)")
    activate_parser.add_argument("version", help="v3 or 3")
    activate_parser.add_argument("--override", action="store_true", help="despite regressions")
    activate_parser.add_argument("--reason", default="", help="why (required with --override)")
    activate_parser.set_defaults(func=command_activate)
    nlu_commands.add_parser("rollback", help="make the previous live version live").set_defaults(
        func=command_rollback
    )
