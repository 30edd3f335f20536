"""Logs: rotation by size, one JSON line per record with the conversation id, no job noise.

Rotation is checked on the supervisor with a real chatty child process; the format and
the conversation ids on the ``limited`` system (``conftest.py``), which runs with
``RIC_LOG_FORMAT=json``, after a widget conversation that logs lines about itself.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from launcher.supervisor import ServiceSpec, Supervisor
from messaging.logs import conversation_scope
from ric_config import LogConfig
from tests.aio import run as run_async
from tests.system import RunningSystem
from tests.trust.conftest import SESSION_LIMIT
from tests.trust.log_capture import capture_logs
from tests.webchat_client import WidgetClient

pytestmark = pytest.mark.trust

LINES = 3000
CHATTY = (
    "import sys\n"
    f"for n in range({LINES}):\n"
    "    print(f'line {n:05d} ' + 'x' * 80, flush=(n % 100 == 0))\n"
    "sys.stdout.flush()\n"
    "print('traceback-like text to stderr', file=sys.stderr)\n"
)


def test_a_process_log_is_rotated_by_size_and_keeps_the_configured_count(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "log" / "chatty.log"
    service = ServiceSpec("chatty", [sys.executable, "-c", CHATTY], {}, tmp_path, log_path)
    config = LogConfig.load({}, log_max_bytes=20_000, log_backup_count=3)
    supervisor = Supervisor([service], log_config=config)
    supervisor.start(service)
    assert service.process is not None
    assert service.process.wait(60) == 0
    supervisor.stop()

    files = sorted(log_path.parent.iterdir())
    assert [f.name for f in files] == [
        "chatty.log",
        "chatty.log.1",
        "chatty.log.2",
        "chatty.log.3",
    ]
    assert all(f.stat().st_size <= 20_000 for f in files)
    kept = [
        line
        for name in ("chatty.log.3", "chatty.log.2", "chatty.log.1", "chatty.log")
        for line in (log_path.parent / name).read_text().splitlines()
    ]
    # The newest lines, whole and in order; the oldest went with the files beyond the count.
    assert kept[-1] == "traceback-like text to stderr"
    numbers = [int(line.split()[1]) for line in kept[:-1]]
    assert numbers == list(range(LINES - len(numbers), LINES))
    assert 500 < len(numbers) < LINES


def test_json_lines_carry_the_conversation_id_set_by_a_scope() -> None:
    with capture_logs("worker") as captured:
        log = logging.getLogger("tests.trust")
        with conversation_scope("abc-123"):
            log.info("about %s", "it")
        log.warning("about nothing")
        logging.getLogger("apscheduler.executors.default").info("Running job x")
    first, second = captured.entries()
    assert {k: first[k] for k in ("level", "logger", "process", "message", "conversation_id")} == {
        "level": "INFO",
        "logger": "tests.trust",
        "process": "worker",
        "message": "about it",
        "conversation_id": "abc-123",
    }
    assert first["time"].endswith("+00:00")
    assert (second["message"], second["conversation_id"]) == ("about nothing", None)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def _json_lines_when(
    path: Path, ready: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The JSON lines of ``path`` once ``ready`` holds for them, or as they are at ``timeout``."""
    deadline = time.monotonic() + timeout
    entries = _json_lines(path)
    while not ready(entries) and time.monotonic() < deadline:
        time.sleep(0.2)
        entries = _json_lines(path)
    return entries


@pytest.mark.rasa
def test_the_running_system_logs_json_with_conversation_ids(limited: RunningSystem) -> None:
    async def scenario() -> str:
        address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
        client = await WidgetClient(limited.ws_url, {"X-Forwarded-For": address}).connect()
        for n in range(SESSION_LIMIT + 1):  # the last one is refused: a line about it
            await client.say(f"what are your opening hours {n}")
        await client.close()
        assert client.session_id
        return client.session_id

    session_id = run_async(scenario())
    logs = limited.var_dir / "log"
    for name in ("rasa.log", "actions.log", "console.log", "worker.log"):
        entries = _json_lines(logs / name)
        assert entries, f"{name} has no JSON lines"
        assert {e["process"] for e in entries} == {name.removesuffix(".log")}
        assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
        # No Sanic line twice (Sanic's loggers used to print theirs and pass them on too);
        # our own lines may repeat: two refusals of one burst in the same millisecond.
        twice = [a for a, b in itertools.pairwise(entries) if a == b]
        assert [a for a in twice if a["logger"].startswith("sanic")] == [], name
    console = _json_lines(logs / "console.log")
    assert sum(e["message"].startswith("Goin' Fast") for e in console) == 1

    # The refusal reaches the reader before the supervisor's pump thread has copied the
    # line about it into rasa.log: wait for it rather than read the file once.
    def refusal_logged(lines: list[dict[str, Any]]) -> bool:
        return any(session_id in e["message"] and "rate limit" in e["message"] for e in lines)

    rasa = _json_lines_when(logs / "rasa.log", refusal_logged)
    about = [e for e in rasa if session_id in e["message"]]
    assert any("rate limit" in e["message"] for e in about)
    assert [e["conversation_id"] for e in about] == [session_id] * len(about)
    actions = _json_lines(logs / "actions.log")
    assert any(e["conversation_id"] == session_id for e in actions + rasa)


@pytest.mark.rasa
def test_the_idle_worker_writes_no_per_job_lines(limited: RunningSystem) -> None:
    entries = _json_lines(limited.var_dir / "log" / "worker.log")
    noise = [e for e in entries if e["logger"].startswith("apscheduler") and e["level"] == "INFO"]
    assert noise == []
    text = (limited.var_dir / "log" / "worker.log").read_text()
    assert "executed successfully" not in text
    assert "Running job" not in text
