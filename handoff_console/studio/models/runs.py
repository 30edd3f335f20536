"""The console's training runs: one job at a time in its own process, followed live.

"Train" starts :mod:`handoff_console.studio.models.job` as a child process with
asyncio's subprocess API, so the console's event loop stays free; the job's progress
lines update a :class:`TrainingRun` that the page polls. Runs are kept in memory (the
newest :data:`KEPT_RUNS`); the job's log goes to ``<registry>/logs/run-<id>.log`` and
its result to the registry, so nothing is lost when the console restarts but the list
of runs itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crm_store import clock
from handoff_console.studio.models.heldout import held_out
from handoff_console.studio.models.registry import ModelRegistry, TrainingInputs

__all__ = ["KEPT_RUNS", "TrainingBusy", "TrainingRun", "TrainingRuns"]

logger = logging.getLogger(__name__)

KEPT_RUNS = 20
PROJECT = Path(__file__).resolve().parents[3]


class TrainingBusy(RuntimeError):
    """A run is already going; only one trains at a time."""


@dataclass
class TrainingRun:
    """One training run, as the page shows it."""

    id: int
    started_by: str
    evaluate: bool
    baseline: int | None
    held_out: int
    started_at: datetime
    status: str = "running"
    phase: str = "starting"
    fraction: float = 0.0
    message: str = "starting the training job"
    finished_at: datetime | None = None
    version: int | None = None
    error: str | None = None
    steps: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        values = asdict(self)
        values["started_at"] = self.started_at.isoformat()
        values["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        values["version"] = f"v{self.version}" if self.version is not None else None
        values["baseline"] = f"v{self.baseline}" if self.baseline is not None else None
        return values

    def apply(self, line: str) -> None:
        """Take one line of the job's output into account."""
        try:
            event = json.loads(line)
        except ValueError:
            return  # Rasa or a library printed something; the log file has it
        if not isinstance(event, dict):
            return
        if event.get("event") == "progress":
            self.phase = str(event.get("phase", self.phase))
            self.fraction = float(event.get("fraction", self.fraction))
            self.message = str(event.get("message", ""))
            self.steps = [*self.steps[-40:], self.message]
        elif event.get("event") == "done":
            self.version = int(event["version"])
        elif event.get("event") == "error":
            self.error = str(event.get("message") or "the training job failed")


class TrainingRuns:
    """Starts training jobs and keeps their runs.

    Args:
        registry: Where the job adds the model.
        inputs: The training data to train from.
        folds: Cross-validation folds.
    """

    def __init__(self, registry: ModelRegistry, inputs: TrainingInputs, folds: int) -> None:
        self.registry = registry
        self.inputs = inputs
        self.folds = folds
        self._runs: dict[int, TrainingRun] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1

    def all(self) -> list[TrainingRun]:
        """Every kept run, newest first."""
        return sorted(self._runs.values(), key=lambda run: run.id, reverse=True)

    def get(self, run_id: int) -> TrainingRun | None:
        """One run, if kept."""
        return self._runs.get(run_id)

    def running(self) -> TrainingRun | None:
        """The run going on now, if any."""
        return next((run for run in self._runs.values() if run.status == "running"), None)

    async def start(
        self,
        started_by: str,
        *,
        evaluate: bool,
        baseline: int | None,
        labelled: list[tuple[str, str]],
    ) -> TrainingRun:
        """Start a run in the background and return it at once.

        Args:
            started_by: The admin's username.
            evaluate: Cross-validate and score the held-out messages too.
            baseline: The live version, to compare with.
            labelled: The inbox-labelled messages (the held-out share is taken here).

        Raises:
            TrainingBusy: A run is going on.
        """
        if self.running() is not None:
            raise TrainingBusy("a model is being trained; wait for it to finish")
        held = held_out(labelled) if evaluate else []
        run = TrainingRun(self._next_id, started_by, evaluate, baseline, len(held), clock.now())
        self._next_id += 1
        self._runs[run.id] = run
        for old in sorted(self._runs)[:-KEPT_RUNS]:
            del self._runs[old]
        task = asyncio.get_running_loop().create_task(self._run(run, held))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    def _command(self, run: TrainingRun, held_file: Path) -> list[str]:
        command = [
            sys.executable, "-m", "handoff_console.studio.models.job",
            "--registry", str(self.registry.root), "--config", str(self.inputs.config),
            "--bot-dir", str(self.inputs.bot_dir), "--source", "studio", "--by", run.started_by,
            "--folds", str(self.folds), "--held-out", str(held_file),
        ]  # fmt: skip
        if run.evaluate:
            command.append("--evaluate")
        if run.baseline is not None:
            command += ["--baseline", str(run.baseline)]
        return command

    async def _run(self, run: TrainingRun, held: list[tuple[str, str]]) -> None:
        logs = self.registry.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        held_file = logs / f"run-{run.id}-held-out.json"
        held_file.write_text(json.dumps(held))
        try:
            with open(logs / f"run-{run.id}.log", "ab") as log:
                process = await asyncio.create_subprocess_exec(
                    *self._command(run, held_file),
                    cwd=PROJECT,  # python -m finds the project's packages from here
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log,
                )
                assert process.stdout is not None
                async for raw in process.stdout:
                    log.write(raw)
                    run.apply(raw.decode(errors="replace"))
                code = await process.wait()
        except (OSError, asyncio.CancelledError) as error:
            logger.exception("training run %d could not run", run.id)
            run.error = f"the training job could not run ({type(error).__name__})"
            code = -1
        finally:
            with contextlib.suppress(OSError):
                held_file.unlink()
        run.finished_at = clock.now()
        if code == 0 and run.version is not None:
            run.status, run.fraction, run.phase = "succeeded", 1.0, "done"
            run.message = f"trained v{run.version}"
        else:
            run.status = "failed"
            run.error = run.error or f"the training job exited with code {code}"
            run.message = run.error

    async def stop(self) -> None:
        """Cancel the runs' readers (the console is stopping)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
