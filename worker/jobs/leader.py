"""Leader election: only one worker process runs the scheduled jobs.

Several worker processes may be started (on one machine or several); each one calls
:meth:`Leadership.acquire` before it starts its scheduler, and exactly one gets past it.

- **PostgreSQL** (:class:`AdvisoryLockLeader`): the worker opens a *dedicated*
  connection and waits in ``SELECT pg_advisory_lock(<key>)``. The lock belongs to that
  database session, so when the leader dies (crash, kill -9, lost network) PostgreSQL
  ends its session, the lock is released and the next waiting worker gets it and takes
  over. The wait runs under a short ``lock_timeout`` and is simply repeated, so that a
  stopping standby can leave the queue between two waits.
- **SQLite** (:class:`FileLockLeader`): everything runs on one machine, so an exclusive
  ``fcntl.flock`` on a lock file next to the database does the same job; the kernel
  releases it when the leader's process ends, however it ends.

The leader checks :meth:`Leadership.still_leader` every few seconds (see
``worker.process``); a leader that has lost its lock connection stops its scheduler
and exits, because another worker may already be running the jobs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from ric_config import WorkerConfig

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x5249435F574B52
"""The advisory lock key of the worker ("RIC_WKR"); ``RIC_WORKER_LOCK_KEY`` overrides it."""
WAIT_SLICE_SECONDS = 2.0
"""How long one wait for the lock lasts before the standby checks whether to stop."""


class Leadership(Protocol):
    """Anything that elects one leader among the worker processes."""

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait until this process is the leader; False if ``stop`` was set first."""
        ...

    def still_leader(self) -> bool:
        """Whether this process still holds the leadership."""
        ...

    def release(self) -> None:
        """Give up the leadership (a no-op when not held)."""
        ...


class AdvisoryLockLeader:
    """Leadership through a PostgreSQL session-level advisory lock on its own connection."""

    def __init__(self, url: str, key: int | None = None) -> None:
        """Prepare (but do not open) the dedicated connection.

        Args:
            url: The reader store's PostgreSQL URL.
            key: The advisory lock key; ``RIC_WORKER_LOCK_KEY`` or :data:`ADVISORY_LOCK_KEY`.
        """
        self.key = key if key is not None else _env_key()
        # NullPool: the connection is ours alone and really closes when released.
        self._engine: Engine = create_engine(url, future=True, poolclass=NullPool)
        self._connection: Connection | None = None

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed:
            connection = self._engine.connect()
            # Autocommit: the lock is session-level and must not sit in a transaction.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text(f"SET lock_timeout = '{int(WAIT_SLICE_SECONDS * 1000)}ms'"))
            self._connection = connection
        return self._connection

    def backend_pid(self) -> int | None:
        """The PostgreSQL backend process id of the lock connection (None if not open)."""
        if self._connection is None or self._connection.closed:
            return None
        return int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait in ``pg_advisory_lock`` until granted; False if ``stop`` was set first.

        Each wait ends after the connection's ``lock_timeout`` and is repeated at once;
        a failed connection is dropped and, after ``WAIT_SLICE_SECONDS`` (cut short by
        ``stop``), opened again. tenacity repeats the attempts, without limit.
        """

        def pause(state: RetryCallState) -> float:
            if stop is None or _lock_timed_out(_failure(state)):
                return 0.0
            return WAIT_SLICE_SECONDS

        def reconnect(state: RetryCallState) -> None:
            error = _failure(state)
            if not _lock_timed_out(error):
                logger.warning("advisory lock wait failed (%s); reconnecting", error.orig)
                self._drop()

        def sleep(seconds: float) -> None:
            if stop is not None:
                stop.wait(seconds)
            elif seconds:
                time.sleep(seconds)

        retrying = Retrying(
            retry=retry_if_exception_type(OperationalError),
            wait=pause,
            before_sleep=reconnect,
            sleep=sleep,
            reraise=True,
        )
        try:
            retrying(self._lock_once, stop)
        except _Stopped:
            return False
        logger.info("this worker is the leader (advisory lock %d)", self.key)
        return True

    def _lock_once(self, stop: threading.Event | None) -> None:
        if stop is not None and stop.is_set():
            raise _Stopped
        self._connect().execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})

    def still_leader(self) -> bool:
        """Whether the lock connection is alive and still holds the lock."""
        if self._connection is None or self._connection.closed:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": self.key},
            ).scalar_one()
        except DBAPIError:
            logger.exception("the leader's lock connection failed")
            self._drop()
            return False
        return bool(held)

    def release(self) -> None:
        """Unlock and close the dedicated connection."""
        if self._connection is not None and not self._connection.closed:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except DBAPIError:
                logger.warning("could not unlock the advisory lock; closing its connection")
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except DBAPIError:
                logger.debug("closing a broken lock connection failed", exc_info=True)
        self._connection = None


class FileLockLeader:
    """Leadership through an exclusive ``flock`` on a file (one machine, e.g. SQLite)."""

    def __init__(self, path: Path) -> None:
        """Use ``path`` as the lock file (created if missing)."""
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait until the lock file is ours; False if ``stop`` was set first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the leader's lifetime
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if stop is None:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                elif stop.wait(WAIT_SLICE_SECONDS / 4):
                    handle.close()
                    return False
                else:
                    continue
            self._file = handle
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            logger.info("this worker is the leader (lock file %s)", self.path)
            return True

    def still_leader(self) -> bool:
        """Whether this process holds the lock file (a flock lives as long as the process)."""
        return self._file is not None and not self._file.closed

    def release(self) -> None:
        """Unlock and close the lock file."""
        if self._file is not None and not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
        self._file = None


def _env_key() -> int:
    configured = WorkerConfig().worker_lock_key  # a wrong value is logged and ignored
    return ADVISORY_LOCK_KEY if configured is None else configured


class _Stopped(Exception):
    """The worker was asked to stop while it waited for the lock."""


def _failure(state: RetryCallState) -> OperationalError:
    """The error of the attempt that just failed (tenacity retries only these)."""
    assert state.outcome is not None
    error = state.outcome.exception()
    assert isinstance(error, OperationalError)
    return error


def _lock_timed_out(error: OperationalError) -> bool:
    # 55P03 lock_not_available: our lock_timeout slice ended; wait again.
    return getattr(error.orig, "pgcode", None) == "55P03"


def lock_file_for(url: str) -> Path:
    """The lock file for a non-PostgreSQL store: ``RIC_WORKER_LOCK_FILE`` or next to the DB."""
    configured = WorkerConfig().worker_lock_file
    if configured:
        return Path(configured)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///").split("?")[0] + ".worker.lock")
    return Path("var/worker.lock")


def leadership_for(url: str) -> Leadership:
    """The leader election that suits the reader store at ``url``."""
    if url.startswith(("postgresql", "postgres")):
        return AdvisoryLockLeader(url)
    return FileLockLeader(lock_file_for(url))
