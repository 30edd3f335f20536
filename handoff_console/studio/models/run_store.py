"""Training runs on disk, and whether a run's job is still alive.

Every run the console starts is a record in the model registry's ``runs/`` folder, so
the list of runs, and a run going on, outlive the console that started it::

    <registry>/runs/
        run-<id>.json           the run (:meth:`TrainingRun.record`), replaced atomically
        run-<id>.events.jsonl   the job's standard output (its progress lines) while it runs
        run-<id>.json.bad       a record that could not be read, set aside…
        run-<id>.json.bad.error …with the reason
        .runs.lock              held while ids are handed out and records are written

A record says ``running`` from the moment its job starts until someone (any console on
this registry) sees the job has ended and settles it from the job's last line:
``succeeded``, ``failed``, or ``interrupted`` when the job died without a word (killed,
or the machine restarted). A job is alive while a process with its pid exists, is not
a zombie, and started when the job did (``/proc/<pid>/stat``), so a later process that
happens to get the same pid is not mistaken for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["INTERRUPTED", "KEPT_RUNS", "STATUSES", "RunStore", "TrainingRun", "process_start"]

logger = logging.getLogger(__name__)

KEPT_RUNS = 20
"""How many runs are kept on disk (the newest)."""
STATUSES = ("running", "succeeded", "failed", "interrupted")
INTERRUPTED = (
    "the training job stopped before it finished (it was killed, or the machine "
    "restarted), so no model was added; start a new run"
)
_RECORD = re.compile(r"^run-(\d{1,9})\.json(\.bad)?$")
_PROCESS_FIELDS = ("pid", "pid_started")


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot), or None if it is not alive.

    A zombie (ended, not yet reaped by its parent) counts as not alive. Where there is
    no ``/proc``, a process that exists answers ``-1`` (its start is unknown).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return -1
        return -1
    # The command name (field 2) is in parentheses and may hold spaces or parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X", "x"):
        return None
    return int(fields[19])


@dataclass
class TrainingRun:
    """One training run: what the page shows, and the job's process (``pid``)."""

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
    pid: int | None = None
    pid_started: int | None = None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form, as the API shows it."""
        values = asdict(self)
        for name in _PROCESS_FIELDS:
            values.pop(name)
        values["started_at"] = self.started_at.isoformat()
        values["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        values["version"] = f"v{self.version}" if self.version is not None else None
        values["baseline"] = f"v{self.baseline}" if self.baseline is not None else None
        return values

    def record(self) -> dict[str, Any]:
        """The JSON of ``run-<id>.json``: every field, the process included."""
        values = asdict(self)
        values["started_at"] = self.started_at.isoformat()
        values["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return values

    @classmethod
    def from_record(cls, values: Any) -> TrainingRun:
        """Read a record written by :meth:`record`.

        Raises:
            ValueError: It is not a run's record.
        """
        if not isinstance(values, dict):
            raise ValueError("the record is not a JSON object")
        try:
            finished = values.get("finished_at")
            run = cls(
                **{
                    **values,
                    "started_at": datetime.fromisoformat(values["started_at"]),
                    "finished_at": datetime.fromisoformat(finished) if finished else None,
                }
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"the record's fields are wrong ({error})") from None
        if not isinstance(run.id, int) or run.status not in STATUSES:
            raise ValueError(f"the record's id or status is wrong ({run.id!r}, {run.status!r})")
        if not isinstance(run.steps, list) or run.started_at.tzinfo is None:
            raise ValueError("the record's steps or start time is wrong")
        return run

    def apply(self, line: str) -> None:
        """Take one line of the job's output into account."""
        try:
            event = json.loads(line)
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
        except (ValueError, TypeError, KeyError):
            return  # Rasa or a library printed something (or half a line); the log has it

    def finish(self, code: int | None, at: datetime) -> None:
        """Settle the run: its job has ended.

        Args:
            code: The job's exit code; None when it is unknown (the job was not this
                console's child: it outlived the console that started it).
            at: When it ended (or was last heard from).
        """
        self.finished_at = at
        if self.version is not None:
            self.status, self.fraction, self.phase = "succeeded", 1.0, "done"
            self.message = f"trained v{self.version}"
            return
        if self.error is None and code is not None and code >= 0:
            self.error = f"the training job exited with code {code} without adding a model"
        if self.error is not None:
            self.status = "failed"
        else:
            self.status = "interrupted"
            self.error = INTERRUPTED
            if code is not None:
                self.error = (
                    f"the training job was stopped by signal {-code} before it finished, "
                    "so no model was added; start a new run"
                )
        self.message = self.error

    def job_alive(self) -> bool:
        """Whether the job's process still runs (by pid and start time)."""
        if self.pid is None:
            return False
        started = process_start(self.pid)
        return started is not None and started in (-1, self.pid_started)


class RunStore:
    """The ``runs/`` folder of a registry; every read is afresh (other consoles write too).

    Args:
        root: The folder; created on first write.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (between processes; not re-entrant)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".runs.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def path(self, run_id: int) -> Path:
        """The record of a run."""
        return self.root / f"run-{run_id}.json"

    def events(self, run_id: int) -> Path:
        """Where a run's job writes its progress lines."""
        return self.root / f"run-{run_id}.events.jsonl"

    def save(self, run: TrainingRun) -> None:
        """Write a run's record: a temporary file, synced, then renamed over the old one."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".run-{run.id}.{os.getpid()}.tmp"
        with open(temporary, "w") as out:
            json.dump(run.record(), out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path(run.id))

    def load(self, run_id: int) -> TrainingRun | None:
        """One run as recorded, or None (no such record, or it was set aside)."""
        return self._read(self.path(run_id))

    def load_all(self) -> list[TrainingRun]:
        """Every recorded run, newest first; records that cannot be read are set aside."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.glob("run-*.json"):
            if _RECORD.match(path.name):
                run = self._read(path)
                if run is not None:
                    found.append(run)
        return sorted(found, key=lambda run: run.id, reverse=True)

    def _read(self, path: Path) -> TrainingRun | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            logger.exception("the training run record %s cannot be read", path)
            return None
        try:
            run = TrainingRun.from_record(json.loads(raw.decode("utf-8")))
            if path.name != f"run-{run.id}.json":
                raise ValueError(f"the record is of run {run.id}, not of its file's")
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self.set_aside(path, str(error))
            return None
        return run

    def set_aside(self, path: Path, reason: str) -> None:
        """Rename a bad record to ``*.bad`` and write why next to it."""
        logger.warning("setting aside the training run record %s: %s", path, reason)
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
            bad.with_name(bad.name + ".error").write_text(reason + "\n")
        except FileNotFoundError:
            return  # another console set it aside first
        except OSError:
            logger.exception("the training run record %s could not be set aside", path)

    def next_id(self) -> int:
        """The id of the next run: after every record, set-aside ones included."""
        if not self.root.is_dir():
            return 1
        ids = [
            int(match.group(1))
            for match in (_RECORD.match(p.name) for p in self.root.iterdir())
            if match is not None
        ]
        return max(ids, default=0) + 1

    def replay(self, run: TrainingRun) -> None:
        """Apply the job's progress lines written so far to ``run``."""
        try:
            lines = self.events(run.id).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return  # not started yet, or settled meanwhile
        for line in lines.splitlines():
            run.apply(line)

    def last_heard(self, run_id: int) -> datetime | None:
        """When the job last wrote a progress line (the events file's time)."""
        try:
            return datetime.fromtimestamp(self.events(run_id).stat().st_mtime, UTC)
        except OSError:
            return None

    def prune(self) -> None:
        """Remove the records (and progress files) of all but the newest :data:`KEPT_RUNS`."""
        for run in self.load_all()[KEPT_RUNS:]:
            if run.status != "running":
                self.path(run.id).unlink(missing_ok=True)
                self.events(run.id).unlink(missing_ok=True)
