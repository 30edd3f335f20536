"""Bulk-loading a generated store into SQLite or PostgreSQL, for the benchmarks.

The rows come from :func:`benchmarks.nightly_analysis.generate` (a ``Store``: rows per
table, in column order). SQLite is loaded with ``executemany`` per table, PostgreSQL
with ``COPY ... FROM STDIN`` into a throwaway ``ric_bench`` database.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from benchmarks.nightly_analysis import Store

__all__ = [
    "PG_ADMIN_URL",
    "PG_DATABASE",
    "create_pg_database",
    "drop_pg_database",
    "load_postgres",
    "load_sqlite",
]

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "ric_bench"
BOOLEAN_COLUMNS = {("staff_users", "active")}


def _chunks(rows: list[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    for offset in range(0, len(rows), size):
        yield rows[offset : offset + size]


ORDER = ("staff_users", "readers", "conversations", "messages", "raw_events", "handoffs",
         "feedback", "surveys")  # fmt: skip


def load_sqlite(path: Path, store: Store) -> None:
    """Bulk-load with ``executemany`` in one transaction per table."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys=OFF")  # rows arrive parents first anyway
        for table in ORDER:
            columns = store.columns[table]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (our table names)
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            with connection:
                for chunk in _chunks(store.rows.get(table, [])):
                    connection.executemany(sql, chunk)
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _copy_value(table: str, column: str, value: Any) -> Any:
    if value is None:
        return r"\N"
    if (table, column) in BOOLEAN_COLUMNS:
        return "t" if value else "f"
    return value


def load_postgres(engine: Engine, store: Store) -> None:
    """Bulk-load with ``COPY ... FROM STDIN`` (CSV), then reset the id sequences."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in ORDER:
            columns = store.columns[table]
            for chunk in _chunks(store.rows.get(table, []), 200_000):
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in chunk:
                    writer.writerow(
                        [_copy_value(table, c, v) for c, v in zip(columns, row, strict=True)]
                    )
                buffer.seek(0)
                cursor.copy_expert(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    buffer,
                )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def create_pg_database() -> str:
    """Create an empty ``ric_bench`` database and return its URL."""
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE}"))
        connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def drop_pg_database() -> None:
    """Drop the ``ric_bench`` database."""
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE}"))
    admin.dispose()
