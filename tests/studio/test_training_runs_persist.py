"""Training runs outlive the console (issue 16, item 4): recorded in the registry, followed
after a restart, settled when their job died, corrupt records set aside.

The first test runs the real console twice on one registry and one store, and a real
training job (``rasa train`` on :func:`~tests.studio.models_stack.small_project`'s copy
of the project with :data:`~tests.studio.models_stack.QUICK_CONFIG`, as the CLI test
does): the job is frozen (SIGSTOP) while the first console stops, so the second console
deterministically finds it still training, refuses a second run, follows it to the end
once it is let go, and a third reader of the folder sees the final record. The other
tests write records as a console would have left them, with real (ended or running)
processes, and read them with a new :class:`TrainingRuns`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from handoff_console.accounts import create_staff, issue_api_token
from handoff_console.studio.models import ModelRegistry, TrainingInputs
from handoff_console.studio.models.run_store import INTERRUPTED, RunStore, process_start
from handoff_console.studio.models.runs import TrainingBusy, TrainingRun, TrainingRuns
from tests.aio import run as run_async
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.live_console import wait_for
from tests.studio.models_stack import QUICK_CONFIG, small_project

pytestmark = pytest.mark.studio

STARTED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@dataclass
class Site:
    """A store with an admin, a small project and a registry, shared by consoles in turn."""

    database_url: str
    token: str
    env: dict[str, str]
    registry: Path
    project: Path
    base: Path

    def console(self, name: str) -> tuple[ConsoleServer, ApiClient]:
        """Start a console on this site (its own log file)."""
        server = start_console(self.database_url, self.base / f"{name}.log", extra_env=self.env)
        return server, ApiClient(server, self.token)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        admin = create_staff(
            session,
            username=f"admin{uuid.uuid4().hex[:6]}",
            password="admin-test-passphrase-1",
            role="admin",
            display_name="Ada Admin",
        )
        token = issue_api_token(session, admin.id, "training runs tests")
    sessions.kw["bind"].dispose()
    project = tmp_path / "project"
    project.mkdir()
    small_project(project)
    (project / "config.yml").write_text(QUICK_CONFIG)
    registry = tmp_path / "registry"
    env = {
        "RIC_MODEL_REGISTRY": str(registry),
        "RIC_STUDIO_BOT_DIR": str(project / "bot"),
        "RIC_STUDIO_CONFIG_FILE": str(project / "config.yml"),
        "RIC_STUDIO_CV_FOLDS": "2",
    }
    yield Site(url, token, env, registry, project, tmp_path)


def _record(registry: Path, run_id: int) -> dict[str, Any]:
    return dict(json.loads((registry / "runs" / f"run-{run_id}.json").read_text()))


def _kill_job(registry: Path, run_id: int) -> None:
    """End a run's job if it still runs: its process group (the job and its ``rasa train``).

    Only the process recorded for the run (same pid and start time) is signalled.
    """
    record = _record(registry, run_id)
    if record["pid"] is not None and process_start(record["pid"]) == record["pid_started"]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record["pid"], signal.SIGKILL)


def _wait_end(admin: ApiClient, run_id: int, timeout: float = 900.0) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        run = admin.get(f"/api/studio/training-runs/{run_id}").json()
        return None if run["status"] == "running" else dict(run)

    return wait_for(ended, timeout=timeout, every=1.0)


def test_a_run_outlives_the_console_and_the_next_console_follows_it(site: Site) -> None:
    first, admin = site.console("console-1")
    try:
        started = admin.post("/api/studio/training-runs", {"evaluate": False})
        assert started.status == 202, started.json()
        run = started.json()
        pid = int(_record(site.registry, run["id"])["pid"])
        os.kill(pid, signal.SIGSTOP)  # it stays mid-run while the console restarts
    finally:
        first.stop()
    second: ConsoleServer | None = None
    try:
        assert process_start(pid) is not None, "the job died with the console"
        (site.registry / "runs" / "run-7.json").write_text('{"id": 7, "status": "runn')
        second, admin = site.console("console-2")
        listing = admin.get("/api/studio/training-runs")
        assert listing.status == 200, listing.text
        items = listing.json()["items"]
        assert [(r["id"], r["status"], r["started_by"]) for r in items] == [
            (run["id"], "running", run["started_by"])
        ]
        assert (site.registry / "runs" / "run-7.json.bad").is_file()
        assert not (site.registry / "runs" / "run-7.json").exists()
        assert admin.get("/api/studio/models").json()["running_run"] == run["id"]
        busy = admin.post("/api/studio/training-runs", {"evaluate": False})
        assert (busy.status, busy.json()["error"]) == (409, "busy")
        os.kill(pid, signal.SIGCONT)
        done = _wait_end(admin, run["id"])
        assert (done["status"], done["version"], done["error"]) == ("succeeded", "v1", None)
        assert (done["fraction"], done["phase"]) == (1.0, "done")
        assert done["steps"], done
        assert [v.label for v in ModelRegistry(site.registry).versions()] == ["v1"]
        assert not (site.registry / "runs" / f"run-{run['id']}.events.jsonl").exists()
        assert not (site.registry / "logs" / f"run-{run['id']}-held-out.json").exists()
        # A third reader of the folder (another restart) sees the same final record.
        again = TrainingRuns(
            ModelRegistry(site.registry),
            TrainingInputs(site.project / "config.yml", site.project / "bot"),
            2,
        ).get(run["id"])
        assert again is not None
        assert (again.status, again.version, again.finished_at) == (
            "succeeded",
            1,
            datetime.fromisoformat(done["finished_at"]),
        )
        # Ids go on after the set-aside record; a job killed under this console is interrupted.
        second_run = admin.post("/api/studio/training-runs", {"evaluate": False})
        assert second_run.status == 202, second_run.json()
        assert second_run.json()["id"] == 8
        _kill_job(site.registry, 8)
        killed = _wait_end(admin, 8, timeout=60.0)
        assert (killed["status"], killed["version"]) == ("interrupted", None)
        assert killed["error"].startswith("the training job was stopped by signal 9"), killed
    finally:
        _kill_job(site.registry, run["id"])  # only if the test failed before the job ended
        if second is not None:
            second.stop()


@pytest.fixture
def runs(tmp_path: Path) -> TrainingRuns:
    """A console's runs on a fresh registry (no job is started by these tests)."""
    inputs = TrainingInputs(tmp_path / "config.yml", tmp_path / "bot")
    return TrainingRuns(ModelRegistry(tmp_path / "registry"), inputs, 2)


@pytest.fixture
def helper() -> Iterator[subprocess.Popen[bytes]]:
    """A real process that waits until its standard input closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    yield process
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


def _running(run_id: int, pid: int, pid_started: int | None) -> TrainingRun:
    return TrainingRun(run_id, "ada", True, 1, 2, STARTED, pid=pid, pid_started=pid_started)


def test_a_running_record_whose_job_died_becomes_interrupted(
    runs: TrainingRuns, helper: subprocess.Popen[bytes]
) -> None:
    store = runs.store
    pid_started = process_start(helper.pid)
    assert pid_started is not None
    store.save(_running(1, helper.pid, pid_started))
    line = {"event": "progress", "phase": "train", "fraction": 0.3, "message": "trained X"}
    store.events(1).write_text(json.dumps(line) + "\n")
    assert helper.stdin is not None
    helper.stdin.close()
    helper.wait(timeout=30)  # the job is gone (the machine restarted, say)
    heard = store.last_heard(1)
    listing = runs.all()
    assert [(r.id, r.status) for r in listing] == [(1, "interrupted")]
    run = listing[0]
    assert (run.error, run.message, run.phase, run.fraction) == (
        INTERRUPTED,
        INTERRUPTED,
        "train",
        0.3,
    )
    assert (run.steps, run.finished_at, run.version) == (["trained X"], heard, None)
    assert runs.running() is None
    on_disk = TrainingRun.from_record(_record(runs.registry.root, 1))
    assert (on_disk.status, on_disk.error) == ("interrupted", INTERRUPTED)
    assert not store.events(1).exists()
    assert TrainingRuns(runs.registry, runs.inputs, 2).get(1) == on_disk


def test_a_live_job_blocks_a_new_run_and_a_reused_pid_does_not(
    runs: TrainingRuns, helper: subprocess.Popen[bytes]
) -> None:
    pid_started = process_start(helper.pid)
    assert pid_started is not None
    runs.store.save(_running(1, helper.pid, pid_started))
    again = TrainingRuns(runs.registry, runs.inputs, 2)  # the console restarted
    running = again.running()
    assert running is not None and running.id == 1
    with pytest.raises(TrainingBusy):
        run_async(again.start("bob", evaluate=False, baseline=None, labelled=[]))
    assert [r.id for r in again.all()] == [1]
    # The same pid, but a process that started at another time: not the job.
    runs.store.save(_running(1, helper.pid, pid_started + 1))
    assert again.running() is None
    assert again.get(1) == TrainingRun.from_record(_record(runs.registry.root, 1))
    assert _record(runs.registry.root, 1)["status"] == "interrupted"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "Expecting property name"),
        ('{"id": 2}', "fields are wrong"),
        ("[1, 2]", "not a JSON object"),
        ("\xff\xfe", "codec"),
    ],
)
def test_a_corrupt_record_is_set_aside_with_its_reason(
    runs: TrainingRuns, text: str, reason: str
) -> None:
    runs.store.save(TrainingRun(1, "ada", False, None, 0, STARTED, status="succeeded", version=1))
    bad = runs.store.path(2)
    if text.startswith("\xff"):
        bad.write_bytes(b"\xff\xfe not text")
    else:
        bad.write_text(text)
    assert [(r.id, r.status) for r in runs.all()] == [(1, "succeeded")]
    assert not bad.exists()
    set_aside = bad.with_name("run-2.json.bad")
    assert set_aside.is_file()
    assert reason in set_aside.with_name("run-2.json.bad.error").read_text()
    assert runs.store.next_id() == 3
    assert runs.get(2) is None


def test_records_are_written_atomically_and_pruned(runs: TrainingRuns) -> None:
    store: RunStore = runs.store
    for number in range(1, 24):
        store.save(TrainingRun(number, "ada", False, None, 0, STARTED, status="failed"))
    store.prune()
    assert [r.id for r in store.load_all()] == list(range(23, 3, -1))
    assert sorted(p.name for p in store.root.iterdir() if p.name.endswith(".tmp")) == []
    assert store.next_id() == 24
