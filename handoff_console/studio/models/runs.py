"""The console's training runs: one job at a time in its own process, followed live.

"Train" starts :mod:`handoff_console.studio.models.job` as a detached process (a
session of its own, its output into files, never a pipe), so neither the console's
event loop nor its lifetime holds it: when the console stops or restarts, the job goes
on, and the next console follows it. Every run is a record in the registry
(:mod:`~handoff_console.studio.models.run_store`): the job writes its progress lines to
``runs/run-<id>.events.jsonl``, its log to ``logs/run-<id>.log`` and its model to the
registry; whichever console sees the job has ended settles the record (succeeded,
failed, or interrupted when the job died without a word). Only one run trains at a
time per registry, across consoles and restarts: a run whose job lives blocks a new
one, and so does a job the CLI (``./ric nlu train``) is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from pathlib import Path

from crm_store import clock
from handoff_console.studio.models.heldout import held_out
from handoff_console.studio.models.job import lock_held
from handoff_console.studio.models.registry import ModelRegistry, TrainingInputs
from handoff_console.studio.models.run_store import (
    KEPT_RUNS,
    RunStore,
    TrainingRun,
    process_start,
)

__all__ = ["KEPT_RUNS", "TrainingBusy", "TrainingRun", "TrainingRuns"]

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parents[3]
WATCH_SECONDS = 1.0
"""How often a console looks whether a run's job has ended."""


class TrainingBusy(RuntimeError):
    """A run is already going; only one trains at a time."""


class TrainingRuns:
    """Starts training jobs and keeps their runs (in the registry's ``runs/`` folder).

    Args:
        registry: Where the job adds the model, and where the runs are recorded.
        inputs: The training data to train from.
        folds: Cross-validation folds.
    """

    def __init__(self, registry: ModelRegistry, inputs: TrainingInputs, folds: int) -> None:
        self.registry = registry
        self.inputs = inputs
        self.folds = folds
        self.store = RunStore(registry.root / "runs")
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def all(self) -> list[TrainingRun]:
        """Every kept run, newest first, as it stands now."""
        return [self._current(run) for run in self.store.load_all()]

    def get(self, run_id: int) -> TrainingRun | None:
        """One run as it stands now, if kept."""
        run = self.store.load(run_id)
        return None if run is None else self._current(run)

    def running(self) -> TrainingRun | None:
        """The run going on now, if any."""
        return next((run for run in self.all() if run.status == "running"), None)

    def adopt(self) -> list[TrainingRun]:
        """At start-up: settle the runs whose job died, follow those still training.

        Must be called inside the event loop (it starts a watcher per live run).
        """
        runs = self.all()
        for run in runs:
            if run.status == "running":
                logger.info("training run %d goes on in process %s", run.id, run.pid)
                self._watch(run.id)
        return runs

    def _ended(self, run: TrainingRun) -> tuple[bool, int | None]:
        """Whether the run's job has ended, and its exit code when this console knows it."""
        child = self._children.get(run.id)
        if child is not None:
            code = child.poll()  # also reaps it
            return code is not None, code
        return not run.job_alive(), None

    def _current(self, run: TrainingRun) -> TrainingRun:
        if run.status != "running":
            return run
        self.store.replay(run)
        ended, code = self._ended(run)
        if not ended:
            return run
        with self.store.locked():
            return self._settle(run.id, code) or run

    def _settle(self, run_id: int, code: int | None) -> TrainingRun | None:
        """Record how a run whose job has ended ended (the caller holds the lock)."""
        run = self.store.load(run_id)  # read again: another console may have settled it
        if run is None or run.status != "running":
            return run
        self.store.replay(run)  # the job's last lines, written before it ended
        heard = self.store.last_heard(run.id) if code is None else None
        run.finish(code, heard or clock.now())
        self.store.save(run)
        self.store.events(run.id).unlink(missing_ok=True)
        self._held_file(run.id).unlink(missing_ok=True)  # reader texts: not kept longer
        self._children.pop(run.id, None)
        log = logger.warning if run.status == "interrupted" else logger.info
        log("training run %d %s: %s", run.id, run.status, run.message)
        return run

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
            TrainingBusy: A run is going on (this console's or another's, or the CLI's).
        """
        held = held_out(labelled) if evaluate else []
        with self.store.locked():
            for recorded in self.store.load_all():
                if recorded.status != "running":
                    continue
                ended, code = self._ended(recorded)
                if not ended:
                    raise TrainingBusy("a model is being trained; wait for it to finish")
                self._settle(recorded.id, code)
            if lock_held(self.registry):
                raise TrainingBusy("a model is being trained (from the command line); wait")
            run = TrainingRun(
                self.store.next_id(), started_by, evaluate, baseline, len(held), clock.now()
            )
            self._spawn(run, held)
            self.store.save(run)
            self.store.prune()
        self._watch(run.id)
        return run

    def _held_file(self, run_id: int) -> Path:
        return self.registry.root / "logs" / f"run-{run_id}-held-out.json"

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

    def _spawn(self, run: TrainingRun, held: list[tuple[str, str]]) -> None:
        """Start the job, detached: its own session, stdout and stderr into files."""
        held_file = self._held_file(run.id)
        try:
            held_file.parent.mkdir(parents=True, exist_ok=True)
            held_file.write_text(json.dumps(held))
            with (
                open(held_file.parent / f"run-{run.id}.log", "ab") as log,
                open(self.store.events(run.id), "wb") as events,
            ):
                child = subprocess.Popen(
                    self._command(run, held_file),
                    cwd=PROJECT,  # python -m finds the project's packages from here
                    stdin=subprocess.DEVNULL,
                    stdout=events,
                    stderr=log,
                    start_new_session=True,  # a signal to the console's group spares it
                )
        except OSError as error:
            logger.exception("training run %d could not start", run.id)
            held_file.unlink(missing_ok=True)
            run.error = f"the training job could not start ({type(error).__name__})"
            run.finish(1, clock.now())
            return
        run.pid, run.pid_started = child.pid, process_start(child.pid)
        self._children[run.id] = child

    def _watch(self, run_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self._follow(run_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, run_id: int) -> None:
        """Settle the run soon after its job ends (and reap it if it is this console's)."""
        while True:
            try:
                run = self.get(run_id)
            except OSError:  # the registry's disk; the next look may succeed
                logger.exception("training run %d could not be read", run_id)
            else:
                if run is None or run.status != "running":
                    break
            await asyncio.sleep(WATCH_SECONDS)
        child = self._children.pop(run_id, None)
        if child is not None:
            child.poll()  # another console may have settled it first: reap it all the same

    async def stop(self) -> None:
        """Stop following the runs (the console is stopping); their jobs go on."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for run_id, child in self._children.items():
            if child.poll() is None:
                logger.info("training run %d goes on in process %d", run_id, child.pid)
