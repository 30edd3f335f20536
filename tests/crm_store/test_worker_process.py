"""Two real worker processes on PostgreSQL: one leads, the other waits and takes over."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from crm_store.migrate import upgrade
from tests.system import ROOT, free_port


class Worker:
    """``python -m worker`` with its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def saw(self, needle: str) -> bool:
        return any(needle in line for line in list(self.lines))

    def wait_for(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.saw(needle):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {needle!r} in:\n" + "\n".join(self.lines[-30:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _waiting_for_lock(url: str, key: int) -> int:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        count = connection.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": key},
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_the_standby_worker_takes_over_when_the_leader_is_killed(
    postgres_url: str, tmp_path: Path
) -> None:
    upgrade(postgres_url)
    key = random.randint(1, 2**40)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "RIC_DATABASE_URL": postgres_url,
        "RIC_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "RIC_STORE_LOGGING": "off",
        "RIC_WORKER_LOCK_KEY": str(key),
        "RIC_RASA_URL": f"http://127.0.0.1:{free_port()}",
    }
    leader = Worker(env)
    standby: Worker | None = None
    try:
        leader.wait_for("this worker is the leader")
        leader.wait_for("worker running")
        standby = Worker(env)
        standby.wait_for("waiting to become the leader worker")
        deadline = time.monotonic() + 30
        while _waiting_for_lock(postgres_url, key) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_for_lock(postgres_url, key) == 1
        assert not standby.saw("this worker is the leader")

        leader.process.send_signal(signal.SIGKILL)
        leader.process.wait()
        standby.wait_for("this worker is the leader")
        standby.wait_for("worker running")
        standby.process.send_signal(signal.SIGTERM)
        code = standby.process.wait(60)
        assert code == 0, "\n".join(standby.lines[-40:])
    finally:
        leader.stop()
        if standby is not None:
            standby.stop()
