"""The supervisor starts, restarts and stops processes, one log file each."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from launcher.supervisor import ServiceSpec, Supervisor

SLEEPER = "import signal, sys, time; print('started', flush=True); time.sleep(600)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ignoring TERM', flush=True); time.sleep(600)"
)


def spec(tmp_path: Path, name: str, code: str) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        argv=[sys.executable, "-c", code],
        env={},
        cwd=tmp_path,
        log_path=tmp_path / "log" / f"{name}.log",
    )


def wait_for_text(path: Path, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


def test_stop_terminates_every_child_and_kills_the_stubborn(tmp_path: Path) -> None:
    polite, stubborn = spec(tmp_path, "polite", SLEEPER), spec(tmp_path, "stubborn", STUBBORN)
    supervisor = Supervisor([polite, stubborn])
    supervisor.start_all()
    wait_for_text(polite.log_path, "started")
    wait_for_text(stubborn.log_path, "ignoring TERM")
    supervisor.stop(grace_seconds=1)
    assert polite.process is not None and polite.process.returncode == -15
    assert stubborn.process is not None and stubborn.process.returncode == -9


def test_a_crashed_service_is_restarted_then_given_up_on(tmp_path: Path) -> None:
    crashing = spec(tmp_path, "crashing", "print('boot', flush=True); raise SystemExit(3)")
    supervisor = Supervisor([crashing], max_restarts=2, restart_delay=0.1)
    supervisor.start_all()
    import threading

    watcher = threading.Thread(target=supervisor.watch, kwargs={"poll_seconds": 0.05}, daemon=True)
    watcher.start()
    deadline = time.monotonic() + 20
    while crashing.process is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    supervisor.stop()
    watcher.join(5)
    assert crashing.restarts == 2
    assert crashing.log_path.read_text().count("boot") == 3


def test_quick_crashes_are_restarted_with_a_growing_delay(tmp_path: Path) -> None:
    crashing = spec(tmp_path, "crashing", "print('boot', flush=True); raise SystemExit(3)")
    supervisor = Supervisor([crashing], max_restarts=3, restart_delay=0.4)
    supervisor.start_all()
    import threading

    watcher = threading.Thread(target=supervisor.watch, kwargs={"poll_seconds": 0.02}, daemon=True)
    watcher.start()
    delays = []
    last = crashing.started_at
    deadline = time.monotonic() + 20
    while crashing.process is not None and time.monotonic() < deadline:
        if crashing.started_at != last:
            delays.append(crashing.started_at - last)
            last = crashing.started_at
        time.sleep(0.01)
    supervisor.stop()
    watcher.join(5)
    # Waits of 0.4, 0.8 and 1.6 s after each crash (plus the crash itself, ~0.1 s).
    assert len(delays) == 3
    assert delays[0] >= 0.4 and delays[1] >= 0.8 and delays[2] >= 1.6


def test_a_crash_after_a_stable_run_starts_a_new_count(tmp_path: Path) -> None:
    from launcher import supervisor as module

    service = spec(tmp_path, "steady", "print('boot', flush=True)")
    supervisor = Supervisor([service], max_restarts=1, restart_delay=0.01)
    service.restarts = 1  # one quick crash already counted
    service.started_at = time.monotonic() - module.STABLE_SECONDS - 1
    supervisor._schedule_restart(service, 1, time.monotonic())
    assert service.restarts == 1 and service.restart_at is not None  # restarted, not given up


def test_a_rasa_token_starting_with_a_dash_reaches_rasa_whole(tmp_path: Path) -> None:
    from rasa.__main__ import create_argument_parser

    from launcher.rasa_server import rasa_argv
    from launcher.services import rasa_service
    from launcher.settings import load_settings

    settings = dataclasses.replace(
        load_settings(tmp_path / "var"), rasa_token="-vGq_starts-with-a-dash"
    )
    argv = rasa_service(settings, tmp_path / "model.tar.gz").argv
    assert argv[1:4] == ["-m", "launcher.rasa_server", "run"]
    parsed = create_argument_parser().parse_args(rasa_argv(argv[3:], settings.rasa_token))
    assert parsed.auth_token == "-vGq_starts-with-a-dash"
