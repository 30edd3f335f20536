"""Shared fixtures: databases (SQLite, and PostgreSQL when present) and the running system."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from tests.system import RunningSystem, start_system

pytest_plugins = [
    "tests.standins.chromium",
    "tests.standins.telegram_env",
    "tests.standins.slack_env",
    "tests.standins.email_env",
]

POSTGRES_URL = os.environ.get("RIC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, future=True, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except OperationalError as error:
        return str(error).splitlines()[0]


def require_service(name: str, problem: str | None) -> None:
    """Skip when a service is missing on a laptop; fail when it is missing in CI."""
    if problem is None:
        return
    message = f"{name} is not available ({problem})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema in the test PostgreSQL database, dropped afterwards."""
    require_service("PostgreSQL", _postgres_reachable())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated reader store on each supported database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on a migrated reader store."""
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(store_engine: Engine) -> sessionmaker[Session]:
    """A session factory on a migrated reader store."""
    return make_session_factory(store_engine)


@pytest.fixture(scope="session")
def system(
    tmp_path_factory: pytest.TempPathFactory,
    telegram_system_env: dict[str, str],
    slack_system_env: dict[str, str],
    email_system_env: dict[str, str],
) -> Iterator[RunningSystem]:
    """The whole system, started by the README's run command (``python -m launcher up``).

    Its Telegram, Slack and email connectors point at the local stand-ins.
    """
    extra = {**telegram_system_env, **slack_system_env, **email_system_env}
    running = start_system(tmp_path_factory.mktemp("system"), extra_env=extra)
    try:
        yield running
    finally:
        running.stop()
