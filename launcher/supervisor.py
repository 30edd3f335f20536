"""Start, watch and stop the system's processes, one log file each.

Children run in their own process groups so that Ctrl-C reaches only the supervisor,
which then stops them in order: SIGTERM, a grace period, then SIGKILL.

**Logs.** A child's standard output and error go through a pipe to a thread of the
supervisor, which writes them line by line to ``var/log/<process>.log`` through a
``RotatingFileHandler``: when the file would pass ``RIC_LOG_MAX_BYTES`` it becomes
``<process>.log.1`` (the older ones move up) and at most ``RIC_LOG_BACKUP_COUNT`` old
files are kept. The child cannot rotate a file it only inherited, so one place does it
for every process, tracebacks and stray prints included.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

from crm_store.redaction import mask_cards_in_text
from ric_config import LogConfig

logger = logging.getLogger(__name__)

STABLE_SECONDS = 60.0
"""A process that ran this long before it crashed starts a new count of restarts."""
RESTART_DELAY_CAP = 30.0
"""The longest wait between two restarts of a crash-looping process."""


class RotatingLog:
    """One process's log file, rotated by size; fed line by line from the child's pipe.

    Args:
        path: the log file.
        max_bytes: rotate when the file would grow past this size.
        backup_count: how many rotated files (``.1``, ``.2``, …) to keep.
    """

    def __init__(self, path: Path, max_bytes: int, backup_count: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
        )
        self.handler.setFormatter(logging.Formatter("%(message)s"))

    def write(self, line: str) -> None:
        """Append one line (rotating first when it would not fit), card numbers masked.

        The last guard for everything a process prints: Rasa's own tracebacks (its
        response interpolator logs the slots, the card number among them) included.
        """
        line = mask_cards_in_text(line)
        record = logging.LogRecord("child", logging.INFO, "", 0, line, None, None)
        self.handler.handle(record)

    def pump(self, stream: IO[bytes]) -> threading.Thread:
        """Copy ``stream`` into the log until it ends, in a daemon thread."""

        def copy() -> None:
            with stream:
                for raw in iter(stream.readline, b""):
                    self.write(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

        thread = threading.Thread(target=copy, name=f"log:{self.handler.baseFilename}", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Close the file."""
        self.handler.close()


@dataclass
class ServiceSpec:
    """How to start one process and how to tell that it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - local URLs
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Supervisor:
    """Runs a set of services until asked to stop.

    Args:
        services: what to run, in start order.
        max_restarts: how many quick crashes in a row are restarted before giving up.
        restart_delay: seconds before the first restart; doubled for each further one.
    """

    def __init__(
        self,
        services: list[ServiceSpec],
        max_restarts: int = 8,
        log_config: LogConfig | None = None,
        restart_delay: float = 1.0,
    ) -> None:
        self.services = services
        self.max_restarts = max_restarts
        self.restart_delay = restart_delay
        self._stopping = False
        self.log_config = log_config or LogConfig()
        self.logs: dict[str, RotatingLog] = {}
        self.pumps: list[threading.Thread] = []

    def start(self, service: ServiceSpec) -> None:
        """Start one service, its output copied into its rotating log file."""
        log = self.logs.get(service.name)
        if log is None:
            config = self.log_config
            log = RotatingLog(service.log_path, config.log_max_bytes, config.log_backup_count)
            self.logs[service.name] = log
        service.process = subprocess.Popen(
            service.argv,
            cwd=service.cwd,
            env=service.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        service.started_at = time.monotonic()
        assert service.process.stdout is not None
        self.pumps.append(log.pump(service.process.stdout))
        logger.info(
            "started %s (pid %d), log: %s", service.name, service.process.pid, service.log_path
        )

    def start_all(self) -> None:
        """Start every service."""
        for service in self.services:
            self.start(service)

    def wait_ready(self, timeout: float = 300.0, progress: Callable[[str], None] = print) -> None:
        """Block until every service with a health URL answers, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        pending = [s for s in self.services if s.health_url]
        while pending:
            for service in list(pending):
                if service.process is not None and service.process.poll() is not None:
                    raise RuntimeError(
                        f"{service.name} exited with code {service.process.returncode}; "
                        f"see {service.log_path}"
                    )
                if service.health_url and http_ok(service.health_url):
                    progress(f"  ✓ {service.name} is ready")
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.5)

    def watch(self, poll_seconds: float = 1.0) -> None:
        """Restart crashed services until :meth:`stop` is called (blocks).

        A crash is restarted after a delay that doubles with each quick crash in a row
        (``restart_delay``, then twice that, and so on up to ``RESTART_DELAY_CAP``), so
        that a process which cannot start while, say, its database is away is retried for
        minutes rather than given up on in seconds. A process that ran for
        ``STABLE_SECONDS`` before crashing starts a new count. After ``max_restarts``
        quick crashes in a row it is given up on.
        """
        while not self._stopping:
            now = time.monotonic()
            for service in self.services:
                if self._stopping:
                    break
                if service.restart_at is not None:
                    if now >= service.restart_at:
                        service.restart_at = None
                        self.start(service)
                    continue
                process = service.process
                if process is None or process.poll() is None:
                    continue
                self._schedule_restart(service, process.returncode, now)
            time.sleep(poll_seconds)

    def _schedule_restart(self, service: ServiceSpec, code: int | None, now: float) -> None:
        """Decide when (or whether) a service that exited with ``code`` starts again."""
        if now - service.started_at >= STABLE_SECONDS:
            service.restarts = 0
        if service.restarts >= self.max_restarts:
            logger.error("%s keeps crashing; giving up (see %s)", service.name, service.log_path)
            service.process = None
            return
        delay = min(RESTART_DELAY_CAP, self.restart_delay * 2**service.restarts)
        service.restarts += 1
        service.restart_at = now + delay
        logger.warning(
            "%s exited with code %s; restarting in %.1f s (%d/%d)",
            service.name, code, delay, service.restarts, self.max_restarts,
        )  # fmt: skip

    def stop(self, grace_seconds: float = 15.0) -> None:
        """Stop every service: SIGTERM, wait, then SIGKILL what is left."""
        self._stopping = True
        running = [s for s in reversed(self.services) if s.process and s.process.poll() is None]
        for service in running:
            assert service.process is not None
            try:
                os.killpg(service.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + grace_seconds
        for service in running:
            assert service.process is not None
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", service.name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.process.pid, signal.SIGKILL)
                service.process.wait()
        for pump in self.pumps:
            pump.join(timeout=5)  # the last lines of each child reach its file
        for log in self.logs.values():
            log.close()
