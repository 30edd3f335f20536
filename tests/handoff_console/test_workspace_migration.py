"""Migration 0008 (conversation language, typing signals) matches the models.

Runs on SQLite and PostgreSQL (``store_url``), up, down to 0007 and up again.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crm_store.db import make_engine
from crm_store.migrate import alembic_config, upgrade
from crm_store.models import Base
from tests.handoff_console.test_api_canned_migration import _columns

pytestmark = pytest.mark.workspace

NEW_COLUMNS = {"language", "reader_typing_at", "staff_typing_at", "staff_typing_id"}


def _table_of(difference: Any) -> str | None:
    """The table an autogenerate difference is about (a column's, an index's…)."""
    first = difference[0] if isinstance(difference, list) else difference
    kind, rest = first[0], first[1:]
    if kind in {"add_column", "remove_column"}:
        return str(rest[1])
    if kind.startswith("modify_"):
        return str(rest[1])
    target = rest[0]
    table = getattr(target, "table", target)
    return str(getattr(table, "name", "")) or None


def _differences(url: str, tables: set[str]) -> list[object]:
    """Autogenerate's differences between the store and the models, on these tables only."""
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if _table_of(d) in tables]


def test_0008_matches_the_models_and_goes_down_and_up(store_url: str) -> None:
    tables = {"conversations"}
    assert _differences(store_url, tables) == []
    assert _columns(store_url, "conversations") >= NEW_COLUMNS
    command.downgrade(alembic_config(store_url), "0007")
    assert _columns(store_url, "conversations") & NEW_COLUMNS == set()
    assert _differences(store_url, tables) != []
    upgrade(store_url)
    assert _differences(store_url, tables) == []
