"""Every text a SQLite store holds, read straight from the file, for the no-leak tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["text_values"]


def text_values(database: Path) -> list[tuple[str, str, str]]:
    """``(table, column, text)`` of every text value in ``database``, the WAL included.

    The file is opened read-only; bytes are decoded (unreadable bytes replaced), so a
    value stored as a blob is searched too.
    """
    found = []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f'pragma table_info("{table}")')]
            for column in columns:
                query = f'select "{column}" from "{table}"'  # noqa: S608 - sqlite_master names
                for (value,) in db.execute(query):
                    text = value.decode(errors="replace") if isinstance(value, bytes) else value
                    if isinstance(text, str):
                        found.append((table, column, text))
    return found
