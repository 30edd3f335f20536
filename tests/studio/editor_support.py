"""Helpers of the training-data editor's tests: a throw-away Rasa project and console.

The trained-model cache is keyed by a hash of ``bot/``, so no test may write there: every
studio test points ``RIC_STUDIO_BOT_DIR`` at a copy made by :func:`bot_copy`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from tests.handoff_console.conftest import ApiClient, ConsoleStore, _store
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.system import ROOT

BOT = ROOT / "bot"


def bot_copy(directory: Path) -> Path:
    """Copy the project's ``bot/`` (data and domain) into ``directory/bot``; its path."""
    target = directory / "bot"
    shutil.copytree(BOT, target, ignore=shutil.ignore_patterns("__pycache__", "*.tar.gz"))
    return target


def studio_env(bot_dir: Path) -> dict[str, str]:
    """The console's environment for a studio that edits ``bot_dir`` (state beside it)."""
    return {
        "RIC_STUDIO_BOT_DIR": str(bot_dir),
        "RIC_STUDIO_STATE_DIR": str(bot_dir.parent / "studio-state"),
    }


def studio_store(directory: Path) -> Iterator[ConsoleStore]:
    """A migrated SQLite store with the console tests' staff, disposed of afterwards."""
    store = _store(directory)
    yield store
    store.sessions.kw["bind"].dispose()


def start_studio_console(store: ConsoleStore, directory: Path) -> tuple[ConsoleServer, Path]:
    """The real console on ``store``, its studio editing a fresh copy of ``bot/``.

    Returns:
        The running console and the copy's path.
    """
    bot = bot_copy(directory)
    server = start_console(store.url, directory / "console.log", extra_env=studio_env(bot))
    return server, bot


def warm_studio(server: ConsoleServer, admin_token: str, timeout: float = 600.0) -> None:
    """Open the editor's page and wait until Rasa's checks of the data are ready.

    The first check imports Rasa (TensorFlow); on a busy machine that can outlast the
    console's response timeout, so the tests wait for it before their first save.
    """
    client = ApiClient(server, admin_token)
    page = server.client().get(
        "/studio/intents", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert page.status == 200, page.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/api/studio/training-data").json()["checks_ready"]:
            return
        time.sleep(1)
    raise AssertionError(f"Rasa's checks were not ready within {timeout} s:\n{server.log()}")
