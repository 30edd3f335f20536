"""Settings shared by the launcher and the processes it starts, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ric_config import (
    ActionsConfig,
    ConsoleConfig,
    LibraryConfig,
    NetworkConfig,
    RasaConfig,
    StoreConfig,
    check_environment,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where everything runs and which secrets it uses.

    Every field comes from an environment variable (named in ``docs/configuration.md``,
    read through ``ric_config``); constructor arguments override the environment. The
    tokens are kept out of the ``repr``.
    """

    root: Path
    var_dir: Path
    bind_host: str
    public_host: str
    rasa_port: int
    actions_port: int
    console_port: int
    database_url: str
    tracker_database_url: str
    rasa_token: str = field(repr=False)
    actions_token: str = field(repr=False)
    actions_host: str = "127.0.0.1"

    # Derived in __post_init__: where the processes and browsers reach each server.
    rasa_url: str = field(init=False)
    rasa_public_url: str = field(init=False)
    actions_base_url: str = field(init=False)
    actions_url: str = field(init=False)
    actions_health_url: str = field(init=False)
    console_url: str = field(init=False)
    log_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        """Derive the addresses (and the log folder) from the hosts and ports."""
        actions = f"http://{connect_host(self.actions_host)}:{self.actions_port}"
        derived: dict[str, object] = {
            # The Rasa server as the other processes reach it, and as a reader's browser
            # does (it serves the widget).
            "rasa_url": f"http://127.0.0.1:{self.rasa_port}",
            "rasa_public_url": RasaConfig().rasa_public_url
            or f"http://{self.public_host}:{self.rasa_port}",
            # The action server as Rasa and the console reach it (loopback unless bound
            # elsewhere): its webhook, and its health check, the one route without a token.
            "actions_base_url": actions,
            "actions_url": f"{actions}/webhook",
            "actions_health_url": f"{actions}/health",
            "console_url": f"http://{self.public_host}:{self.console_port}",
            "log_dir": self.var_dir / "log",  # one log file per process
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # frozen: set once, here


def connect_host(bind_host: str) -> str:
    """The address a local client uses to reach a server bound to ``bind_host``."""
    if bind_host in ("", "0.0.0.0", "::", "localhost"):
        return "127.0.0.1"
    return f"[{bind_host}]" if ":" in bind_host else bind_host


def persistent_token(var_dir: Path, name: str) -> str:
    """Return a random token kept in ``var/secrets/<name>`` (mode 0600), made on first use.

    The file is created with mode 0600 before anything is written to it, so the token is
    never readable by other local users, even for a moment.

    Args:
        var_dir: The ``var`` folder.
        name: The file name under ``var/secrets/``.

    Returns:
        The token.
    """
    path = var_dir / "secrets" / name
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # an older or hand-made file: close it before reading
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token)
    path.chmod(0o600)
    return token


def load_settings(var_dir: Path | None = None) -> Settings:
    """Read the settings from the environment, filling in safe defaults.

    Neither the Rasa HTTP API nor the action server ever runs without a token: when
    ``RASA_AUTH_TOKEN`` or ``RIC_ACTIONS_TOKEN`` is unset, one is generated on first run
    into ``var/secrets/`` and reused afterwards.

    Raises:
        SettingsError: A variable of any process holds a wrong value (all are named).
    """
    check_environment()  # fail here, naming the variable, not later inside a process
    store, network, rasa, actions = StoreConfig(), NetworkConfig(), RasaConfig(), ActionsConfig()
    var = (var_dir or Path(store.var_dir or ROOT / "var")).resolve()
    var.mkdir(parents=True, exist_ok=True)
    return Settings(
        root=ROOT,
        var_dir=var,
        bind_host=network.bind_host,
        public_host=network.public_host,
        rasa_port=rasa.rasa_port,
        actions_port=actions.actions_port,
        console_port=ConsoleConfig().console_port,
        database_url=store.database_url or f"sqlite:///{var / 'crm.db'}",
        tracker_database_url=store.tracker_database_url or f"sqlite:///{var / 'tracker.db'}",
        rasa_token=rasa.rasa_token.get_secret_value() or persistent_token(var, "rasa_token"),
        actions_token=actions.actions_token.get_secret_value()
        or persistent_token(var, "actions_token"),
        # Only Rasa calls the action server, so it stays on loopback even when
        # RIC_BIND_HOST opens the other services to the network.
        actions_host=actions.actions_host,
    )


def process_environment(settings: Settings) -> dict[str, str]:
    """The environment every child process gets: settings made explicit, secrets included."""
    demo_ils_db = LibraryConfig().demo_ils_db
    return {
        **os.environ,  # passed on to the child processes, not read as settings here
        "PYTHONPATH": str(settings.root),
        "RIC_VAR_DIR": str(settings.var_dir),
        "RIC_DATABASE_URL": settings.database_url,
        "RIC_TRACKER_DATABASE_URL": settings.tracker_database_url,
        "RIC_ACTION_ENDPOINT": settings.actions_url,
        "RIC_RASA_URL": settings.rasa_url,
        "RIC_RASA_PUBLIC_URL": settings.rasa_public_url,
        "RIC_ACTIONS_PORT": str(settings.actions_port),
        "RIC_ACTIONS_HOST": settings.actions_host,
        "RIC_ACTIONS_HEALTH_URL": settings.actions_health_url,
        "RIC_ACTIONS_TOKEN": settings.actions_token,
        "RIC_CONSOLE_PORT": str(settings.console_port),
        "RIC_RASA_PORT": str(settings.rasa_port),
        "RASA_AUTH_TOKEN": settings.rasa_token,
        "RIC_DEMO_ILS_DB": demo_ils_db or str(settings.var_dir / "demo_ils.db"),
        # Rasa and TensorFlow are chatty and try to phone home; keep them quiet and offline.
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
