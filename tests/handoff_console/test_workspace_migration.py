"""Migration 0008 (conversation language, typing signals) matches the models.

Runs on SQLite and PostgreSQL (``store_url``), up, down to 0007 and up again.
"""

from __future__ import annotations

import pytest
from alembic import command

from crm_store.migrate import alembic_config, upgrade
from tests.handoff_console.test_api_canned_migration import _columns, _differences

pytestmark = pytest.mark.workspace

NEW_COLUMNS = {"language", "reader_typing_at", "staff_typing_at", "staff_typing_id"}


def test_0008_matches_the_models_and_goes_down_and_up(store_url: str) -> None:
    tables = {"conversations"}
    assert _differences(store_url, tables) == []
    assert _columns(store_url, "conversations") >= NEW_COLUMNS
    command.downgrade(alembic_config(store_url), "0007")
    assert _columns(store_url, "conversations") & NEW_COLUMNS == set()
    assert _differences(store_url, tables) != []
    upgrade(store_url)
    assert _differences(store_url, tables) == []
