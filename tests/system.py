"""Start the whole system exactly as the README's run command does, on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningSystem:
    """A ``launcher up`` process and where its services listen."""

    process: subprocess.Popen[str]
    var_dir: Path
    rasa_port: int
    actions_port: int
    console_port: int
    output: list[str] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://localhost:{self.console_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://localhost:{self.rasa_port}/webhooks/webchat/ws"

    @property
    def token(self) -> str:
        return (self.var_dir / "secrets" / "rasa_token").read_text().strip()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.var_dir / 'crm.db'}"

    @property
    def tracker_url(self) -> str:
        return f"sqlite:///{self.var_dir / 'tracker.db'}"

    def stop(self, timeout: float = 60.0) -> int:
        """Press Ctrl-C on the run command and wait for it to finish."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_system(
    var_dir: Path, timeout: float = 600.0, extra_env: dict[str, str] | None = None
) -> RunningSystem:
    """Run ``python -m launcher up`` with its own var folder and ports; wait for "Ready."."""
    ports = {
        "RIC_RASA_PORT": free_port(),
        "RIC_ACTIONS_PORT": free_port(),
        "RIC_CONSOLE_PORT": free_port(),
    }
    env = {
        **os.environ,
        "RIC_VAR_DIR": str(var_dir),
        "RIC_DATABASE_URL": "",
        "RIC_TRACKER_DATABASE_URL": "",
        "RASA_AUTH_TOKEN": "",
        "PYTHONUNBUFFERED": "1",
        "RIC_CHAT_ALWAYS_STAFFED": "1",
        # Tests expect an empty history; tests of the demo history turn it on (extra_env).
        "RIC_DEMO_HISTORY": "0",
        **{k: str(v) for k, v in ports.items()},
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    system = RunningSystem(
        process,
        var_dir,
        ports["RIC_RASA_PORT"],
        ports["RIC_ACTIONS_PORT"],
        ports["RIC_CONSOLE_PORT"],
    )
    ready = threading.Event()

    def _read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            system.output.append(line.rstrip("\n"))
            if line.startswith("Ready."):
                ready.set()

    threading.Thread(target=_read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            system.stop()
            log = "\n".join(system.output[-40:])
            raise RuntimeError(f"the run command did not become ready:\n{log}")
    return system
