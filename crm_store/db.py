"""Engines and sessions for the reader store.

SQLite is the embedded default; PostgreSQL is the scaling path. Both get the
same models and migrations. The caller owns the session (``with
session_factory.begin() as session:``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_store.errors import IngestionError
from ric_config import StoreConfig

DEFAULT_DATABASE_URL = "sqlite:///var/crm.db"
DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"


def database_url(url: str | None = None) -> str:
    """Return the reader store's URL: the argument, ``RIC_DATABASE_URL``, or the default."""
    return url or StoreConfig().database_url or DEFAULT_DATABASE_URL


def tracker_database_url(url: str | None = None) -> str:
    """Return Rasa's tracker store URL: the argument, ``RIC_TRACKER_DATABASE_URL``, or the default.

    It must differ from the reader store's: Rasa's tracker store and SQL event broker
    both own a table named ``events``.
    """
    return url or StoreConfig().tracker_database_url or DEFAULT_TRACKER_URL


def store_logging_mode() -> str:
    """How events reach the reader store (``RIC_STORE_LOGGING``).

    ``tail`` (default): the worker tails the tracker store every ~250 ms, so the Rasa
    process does no reader-store work at all. ``live``: a thread in the Rasa process
    writes each committed turn within ~50 ms (catch-up still backs it up). ``off``:
    nothing but the worker's catch-up, if it runs.
    """
    mode = StoreConfig().store_logging.lower()
    return mode if mode in {"tail", "live", "off"} else "tail"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the console and worker read while the Rasa process writes, and the
    # busy timeout turns brief write contention into a wait instead of an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for the reader store, creating the SQLite folder if needed."""
    resolved = database_url(url)
    if resolved.startswith("sqlite:///") and resolved != "sqlite:///:memory:":
        Path(resolved.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(resolved, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a 2.0-style session factory bound to ``engine``."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def dialect_insert(session: Session, table: Any) -> Any:
    """An ``INSERT`` for ``table`` in the session's dialect, so ``on_conflict_do_nothing`` works.

    Raises:
        IngestionError: the database is neither PostgreSQL nor SQLite.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise IngestionError(f"unsupported database dialect: {dialect}")
