"""The four processes of the system and how to start each."""

from __future__ import annotations

import sys
from pathlib import Path

from launcher.settings import Settings, process_environment
from launcher.supervisor import ServiceSpec


def rasa_service(settings: Settings, model: Path, *, name: str = "rasa") -> ServiceSpec:
    """The Rasa server: NLU, dialogue and the channel connectors, API behind a token.

    Rasa runs through :mod:`launcher.rasa_server`, which takes the API token from
    ``RASA_AUTH_TOKEN`` in the environment, so that it is not on the command line where
    any local user could read it. Rasa sends ``RIC_ACTIONS_TOKEN`` to the action server
    (``endpoints.yml``).
    """
    root = settings.root
    return ServiceSpec(
        name=name,
        argv=[
            sys.executable,
            "-m",
            "launcher.rasa_server",
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--credentials",
            str(root / "credentials.yml"),
            "--endpoints",
            str(root / "endpoints.yml"),
            "--interface",
            settings.bind_host,
            "--port",
            str(settings.rasa_port),
            # No --log-file: Rasa's own file would never be rotated; its output goes to
            # the supervisor, which writes var/log/rasa.log and rotates it.
        ],
        env=process_environment(settings),
        cwd=root,
        log_path=settings.log_dir / f"{name}.log",
        health_url=f"{settings.rasa_url}/webhooks/webchat/",
    )


def _python_module(
    settings: Settings, name: str, module: str, health_url: str | None = None
) -> ServiceSpec:
    """A process started as ``python -m <module>`` from the project root, logging to
    ``var/log/<name>.log``, with the environment every process gets."""
    return ServiceSpec(
        name=name,
        argv=[sys.executable, "-m", module],
        env=process_environment(settings),
        cwd=settings.root,
        log_path=settings.log_dir / f"{name}.log",
        health_url=health_url,
    )


def actions_service(settings: Settings) -> ServiceSpec:
    """The Rasa SDK action server, behind the shared token (:mod:`actions.server`).

    It reads its address and token from the environment (``RIC_ACTIONS_HOST``,
    ``RIC_ACTIONS_PORT``, ``RIC_ACTIONS_TOKEN``), so the token is not on its command line.
    """
    return _python_module(settings, "actions", "actions.server", settings.actions_health_url)


def console_service(settings: Settings) -> ServiceSpec:
    """The handoff console (Sanic)."""
    health = f"http://127.0.0.1:{settings.console_port}/healthz"
    return _python_module(settings, "console", "handoff_console", health)


def worker_service(settings: Settings) -> ServiceSpec:
    """The worker: ingestion, follow-ups, surveys, reader care and the nightly analysis."""
    return _python_module(settings, "worker", "worker")


def all_services(settings: Settings, model: Path) -> list[ServiceSpec]:
    """Every process, in start order."""
    return [
        actions_service(settings),
        rasa_service(settings, model),
        console_service(settings),
        worker_service(settings),
    ]
