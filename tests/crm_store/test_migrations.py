"""Alembic migrations run on SQLite and PostgreSQL, up and back down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from crm_store.db import make_engine
from crm_store.migrate import alembic_config, upgrade

EXPECTED_TABLES = {
    "readers", "channel_identities", "conversations", "messages", "raw_events",
    "api_tokens", "console_sessions", "login_attempts", "notes", "canned_responses",
    "outbound_messages", "audit_log", "inbound_receipts", "email_messages",
    "handoffs", "tickets", "feedback", "staff_users", "ingest_checkpoints", "service_heartbeats",
    "daily_metrics", "analysis_runs", "churned_readers", "question_clusters", "retention_runs",
    "surveys", "follow_ups", "notifications", "reader_preferences", "sent_reminders",
}  # fmt: skip


def test_upgrade_creates_every_table(store_url: str) -> None:
    engine = make_engine(store_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert tables >= EXPECTED_TABLES


def test_upgrade_is_repeatable_and_downgrade_removes_tables(store_url: str) -> None:
    upgrade(store_url)  # a second run is a no-op
    command.downgrade(alembic_config(store_url), "base")
    engine = make_engine(store_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert tables & EXPECTED_TABLES == set()
