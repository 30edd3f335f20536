"""Migration 0007 (canned reply owner, language, tag; ticket assignee index) matches the models.

Runs on SQLite and PostgreSQL (``store_url``), up, down to 0006 and up again.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from crm_store.db import make_engine
from crm_store.migrate import alembic_config, upgrade
from crm_store.models import Base

pytestmark = pytest.mark.workspace

NEW_COLUMNS = {"owner_id", "language", "tag", "updated_at"}


def _differences(url: str, tables: set[str]) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if any(f"'{table}'" in repr(d) for table in tables)]


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    names = {c["name"] for c in inspect(engine).get_columns(table)}
    engine.dispose()
    return names


def test_0007_matches_the_models_and_goes_down_and_up(store_url: str) -> None:
    tables = {"canned_responses", "tickets"}
    assert _differences(store_url, tables) == []
    assert _columns(store_url, "canned_responses") >= NEW_COLUMNS
    command.downgrade(alembic_config(store_url), "0006")
    assert _columns(store_url, "canned_responses") & NEW_COLUMNS == set()
    assert _differences(store_url, tables) != []
    upgrade(store_url)
    assert _differences(store_url, tables) == []
