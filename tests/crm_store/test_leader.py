"""Leader election: a second worker waits, and takes over when the leader's process dies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.system import ROOT
from worker.jobs.leader import (
    AdvisoryLockLeader,
    FileLockLeader,
    Leadership,
    leadership_for,
    lock_file_for,
)

HOLDER = """
import sys, time
from pathlib import Path
from worker.jobs.leader import AdvisoryLockLeader, FileLockLeader
kind, target, key = sys.argv[1], sys.argv[2], int(sys.argv[3])
leader = FileLockLeader(Path(target)) if kind == "file" else AdvisoryLockLeader(target, key=key)
assert leader.acquire()
print("leader", flush=True)
time.sleep(600)
"""


def _start_holder(kind: str, target: str, key: int = 0) -> subprocess.Popen[str]:
    """A separate process that becomes the leader and then hangs, like a busy worker."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, kind, target, str(key)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "leader"
    return process


def _take_over_after_kill(holder: subprocess.Popen[str], standby: Leadership) -> bool:
    """Kill the leader with SIGKILL while ``standby`` waits; return whether it took over."""
    outcome: list[bool] = []
    waiting = threading.Thread(target=lambda: outcome.append(standby.acquire()))
    waiting.start()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    waiting.join(timeout=60)
    return outcome == [True]


def test_a_second_file_lock_worker_waits_then_takes_over(tmp_path: Path) -> None:
    path = tmp_path / "crm.db.worker.lock"
    holder = _start_holder("file", str(path))
    standby = FileLockLeader(path)
    try:
        given_up = threading.Event()
        given_up.set()
        assert standby.acquire(given_up) is False  # the lock is taken: no leadership
        assert _take_over_after_kill(holder, standby)
        assert standby.still_leader()
        assert path.read_text().strip() == str(os.getpid())
    finally:
        standby.release()
        if holder.poll() is None:
            holder.kill()


def test_a_second_advisory_lock_worker_waits_then_takes_over(postgres_url: str) -> None:
    key = random.randint(1, 2**40)
    holder = _start_holder("pg", postgres_url, key)
    standby = AdvisoryLockLeader(postgres_url, key=key)
    admin = create_engine(postgres_url, future=True)
    try:
        given_up = threading.Event()
        given_up.set()
        assert standby.acquire(given_up) is False
        outcome: list[bool] = []
        waiting = threading.Thread(target=lambda: outcome.append(standby.acquire()))
        waiting.start()
        # The standby is queued inside pg_advisory_lock: PostgreSQL shows its ungranted lock.
        deadline = time.monotonic() + 30
        queued = 0
        while time.monotonic() < deadline and not queued:
            with admin.connect() as connection:
                queued = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": key},
                ).scalar_one()
            time.sleep(0.05)
        assert queued == 1
        assert outcome == []
        holder.send_signal(signal.SIGKILL)  # the leader dies; its session ends
        holder.wait()
        waiting.join(timeout=60)
        assert outcome == [True]
        assert standby.still_leader()
    finally:
        standby.release()
        admin.dispose()
        if holder.poll() is None:
            holder.kill()


def test_a_leader_whose_connection_is_cut_knows_it_lost(postgres_url: str) -> None:
    key = random.randint(1, 2**40)
    leader = AdvisoryLockLeader(postgres_url, key=key)
    admin = create_engine(postgres_url, future=True)
    try:
        assert leader.acquire()
        assert leader.still_leader()
        pid = leader.backend_pid()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert leader.still_leader() is False
    finally:
        leader.release()
        admin.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/crm.db", Path("var/crm.db.worker.lock")),
        ("sqlite:///store/x.db", Path("store/x.db.worker.lock")),
    ],
)
def test_sqlite_stores_use_a_lock_file_next_to_the_database(url: str, expected: Path) -> None:
    assert lock_file_for(url) == expected
    assert isinstance(leadership_for(url), FileLockLeader)


def test_postgresql_stores_use_the_advisory_lock() -> None:
    leader = leadership_for("postgresql://postgres@127.0.0.1:5432/test")
    assert isinstance(leader, AdvisoryLockLeader)
    leader.release()
