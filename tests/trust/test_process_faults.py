"""A SIGKILL of each process mid-traffic loses and duplicates nothing (issue 18).

The system runs as ``./ric up`` runs it. Widget readers (``benchmarks.soak.Reader``:
session ids kept, unacknowledged messages re-sent after a reconnect, as the widget's
outbox does) talk while the Rasa server, the action server, the console and the worker
are each killed in turn; the launcher's supervisor restarts them. Afterwards every reader
message is in the reader store exactly once and every reader got every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.soak import ONE_ADDRESS_LIMITS, SERVICE_MARKERS, FaultReport, fault_run
from tests.system import RunningSystem, start_system

pytestmark = [pytest.mark.trust, pytest.mark.rasa]

CLIENTS = 4
PAUSE_SECONDS = 15.0


@pytest.fixture(scope="module")
def killed_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """A system of its own: its processes are killed, which no other test should see."""
    running = start_system(tmp_path_factory.mktemp("faults") / "var", extra_env=ONE_ADDRESS_LIMITS)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def report(killed_system: RunningSystem) -> FaultReport:
    """Traffic while each process is killed once."""
    return fault_run(killed_system, CLIENTS, PAUSE_SECONDS, tail=30.0)


def test_every_process_was_killed_and_restarted(report: FaultReport) -> None:
    assert sorted(report.restart_seconds) == sorted(SERVICE_MARKERS)


def test_every_reader_message_is_stored_exactly_once(report: FaultReport) -> None:
    assert report.tally.sent, "no traffic was sent"
    assert report.missing == []
    assert report.duplicated == []


def test_every_reader_reconnected_and_was_answered(report: FaultReport) -> None:
    # Killing the Rasa server drops every widget socket: each reader reconnects once.
    assert report.tally.reconnects >= CLIENTS
    assert report.tally.errors["gave_up"] == 0
    assert report.tally.answered == len(report.tally.sent)


def test_the_restarted_console_answers(killed_system: RunningSystem) -> None:
    from launcher.supervisor import http_ok

    assert http_ok(f"{killed_system.console_url}/healthz")


def test_logs_name_the_restarts(killed_system: RunningSystem, report: FaultReport) -> None:
    output = "\n".join(killed_system.output)
    for name in SERVICE_MARKERS:
        assert f"{name} exited" in output, f"no restart of {name} in the launcher's output"
    assert Path(killed_system.var_dir).is_dir()
