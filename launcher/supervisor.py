"""Start, watch and stop the system's processes, one log file each.

Children run in their own process groups so that Ctrl-C reaches only the supervisor,
which then stops them in order: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


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
        max_restarts: how often a crashed service is restarted before giving up.
    """

    def __init__(self, services: list[ServiceSpec], max_restarts: int = 3) -> None:
        self.services = services
        self.max_restarts = max_restarts
        self._stopping = False

    def start(self, service: ServiceSpec) -> None:
        """Start one service, appending its output to its log file."""
        service.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(service.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        service.process = subprocess.Popen(
            service.argv,
            cwd=service.cwd,
            env=service.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
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
        """Restart crashed services until :meth:`stop` is called (blocks)."""
        while not self._stopping:
            for service in self.services:
                process = service.process
                if self._stopping or process is None or process.poll() is None:
                    continue
                if service.restarts >= self.max_restarts:
                    logger.error(
                        "%s keeps crashing; giving up (see %s)", service.name, service.log_path
                    )
                    service.process = None
                    continue
                service.restarts += 1
                logger.warning(
                    "%s exited with code %s; restarting (%d/%d)",
                    service.name, process.returncode, service.restarts, self.max_restarts,
                )  # fmt: skip
                self.start(service)
            time.sleep(poll_seconds)

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
