"""issue 17: the manager dashboard (channel sessions, rollup tables, report subscriptions)

Reserved in the chain so that the issues' work can land in any order. Each part of
issue 17 adds its own block below.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# -- part 1: channel sessions and the dashboard's rollups ---------------------------------


def _key_columns() -> list[sa.Column]:
    """The filter keys of both rollup tables."""
    return [
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("branch", sa.String(length=80), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=120), nullable=False),
    ]


def _measure_columns() -> list[sa.Column]:
    """The additive columns of both rollup tables (crm_store.models.dashboard._Measures)."""
    counts = (
        "conversations",
        "contained",
        "handoffs",
        "reader_messages",
        "fallback_messages",
        "ratings",
        "positive_ratings",
        "rating_sum",
        "responded",
    )
    return [
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in counts),
        sa.Column("first_response_sum", sa.Float(), nullable=False, server_default="0"),
        sa.Column("resolved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("resolution_sum", sa.Float(), nullable=False, server_default="0"),
        sa.Column("computed_at", crm_store.models.UtcDateTime(), nullable=False),
    ]


def _upgrade_sessions_and_rollups() -> None:
    """Create ``conversation_sessions`` and the hourly and daily rollups (models.dashboard).

    Existing conversations are split into sessions by the worker's rollup job (or
    ``python -m worker.jobs.rollups --resplit``), which reads the messages with the
    configured inactivity period; the migration itself only creates the tables.
    """
    utc = crm_store.models.UtcDateTime
    op.create_table(
        "conversation_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("ended_at", utc(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("hour", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("branch", sa.String(length=80), nullable=True),
        sa.Column("intent", sa.String(length=120), nullable=True),
        sa.Column("reader_messages", sa.Integer(), nullable=True),
        sa.Column("fallback_messages", sa.Integer(), nullable=True),
        sa.Column("handoff", sa.Boolean(), nullable=True),
        sa.Column("handoff_reason", sa.String(length=200), nullable=True),
        sa.Column("librarian_id", sa.Integer(), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        sa.Column("resolution_seconds", sa.Float(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("returned", sa.Boolean(), nullable=True),
        sa.Column("contained", sa.Boolean(), nullable=True),
        sa.Column("computed_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_conversation_sessions_seq"),
    )
    op.create_index("ix_conversation_sessions_started_at", "conversation_sessions", ["started_at"])
    op.create_index("ix_conversation_sessions_day_hour", "conversation_sessions", ["day", "hour"])
    op.create_index(
        "ix_conversation_sessions_reader_started",
        "conversation_sessions",
        ["reader_id", "started_at"],
    )
    op.create_index(
        "ix_conversation_sessions_librarian_id", "conversation_sessions", ["librarian_id"]
    )
    op.create_index(
        "ix_conversation_sessions_handoff_day",
        "conversation_sessions",
        ["handoff", "day", "intent", "first_response_seconds", "resolution_seconds", "started_at"],
    )
    op.create_table(
        "dashboard_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        *_key_columns(),
        *_measure_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "day", "hour", "channel", "branch", "language", "intent", name="uq_dashboard_rollups"
        ),
    )
    op.create_table(
        "dashboard_daily_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_key_columns(),
        *_measure_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "day", "channel", "branch", "language", "intent", name="uq_dashboard_daily_rollups"
        ),
    )
    op.create_index("ix_dashboard_daily_rollups_day", "dashboard_daily_rollups", ["day"])
    op.create_index("ix_dashboard_rollups_day", "dashboard_rollups", ["day"])
    # Covering indexes of the heatmap and of the handed-off sessions' charts (perf follow-up).
    op.create_index(
        "ix_dashboard_rollups_heatmap",
        "dashboard_rollups",
        ["day", "hour", "channel", "branch", "language", "intent", "conversations"],
    )
    op.create_index(
        "ix_conversation_sessions_handoff_cover",
        "conversation_sessions",
        [
            "handoff",
            "day",
            "intent",
            "channel",
            "branch",
            "language",
            "librarian_id",
            "handoff_reason",
            "first_response_seconds",
            "rating",
            "started_at",
        ],
    )


def _downgrade_sessions_and_rollups() -> None:
    """Drop the three tables."""
    op.drop_index("ix_dashboard_rollups_heatmap", table_name="dashboard_rollups")
    op.drop_index("ix_conversation_sessions_handoff_cover", table_name="conversation_sessions")
    op.drop_index("ix_dashboard_daily_rollups_day", table_name="dashboard_daily_rollups")
    op.drop_table("dashboard_daily_rollups")
    op.drop_index("ix_dashboard_rollups_day", table_name="dashboard_rollups")
    op.drop_table("dashboard_rollups")
    for name in ("handoff_day", "librarian_id", "reader_started", "day_hour", "started_at"):
        op.drop_index(f"ix_conversation_sessions_{name}", table_name="conversation_sessions")
    op.drop_table("conversation_sessions")


# -- end of part 1 -----------------------------------------------------------------------


# -- part 2: reader intelligence and the weekly report ------------------------------------


def _upgrade_reports() -> None:
    """Create ``report_subscriptions``, ``weekly_reports`` and ``dashboard_keys``
    (crm_store.models.dashboard_reports)."""
    utc = crm_store.models.UtcDateTime
    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.UniqueConstraint("staff_user_id", name="uq_report_subscriptions_staff"),
    )
    op.create_table(
        "weekly_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_at", utc(), nullable=True),
        sa.Column("sent_at", utc(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.UniqueConstraint("week_start", "staff_user_id", name="uq_weekly_report"),
    )
    keys = op.create_table(
        "dashboard_keys",
        sa.Column("name", sa.String(length=60), primary_key=True),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
    )
    # The readers' pseudonym key (crm_store.reader_value), made once per reader store.
    now = datetime.now(timezone.utc)
    op.bulk_insert(
        keys, [{"name": "reader_pseudonym", "value": secrets.token_hex(32), "created_at": now}]
    )


def _upgrade_reader_rollups() -> None:
    """Create ``reader_values``, ``reader_risks`` and ``reader_snapshots`` (the reader
    intelligence rollup)."""
    op.create_table(
        "reader_values",
        sa.Column(
            "reader_id",
            sa.Integer(),
            sa.ForeignKey("readers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("segment", sa.String(length=20), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "rank",
                "score",
                "recency",
                "frequency",
                "breadth",
                "recency_days",
                "conversations",
                "loans",
            )
        ),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("mean_rating", sa.Float(), nullable=True),
    )
    op.create_index("ix_reader_values_segment_rank", "reader_values", ["segment", "rank"])
    op.create_table(
        "reader_risks",
        sa.Column(
            "reader_id",
            sa.Integer(),
            sa.ForeignKey("readers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rank", sa.Integer(), nullable=False, index=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("last_active_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
    )
    op.create_table(
        "reader_snapshots",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("as_of", crm_store.models.UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )


def _downgrade_reports() -> None:
    """Drop the part's tables."""
    op.drop_table("reader_snapshots")
    op.drop_index("ix_reader_risks_rank", table_name="reader_risks")
    op.drop_table("reader_risks")
    op.drop_index("ix_reader_values_segment_rank", table_name="reader_values")
    op.drop_table("reader_values")
    op.drop_table("dashboard_keys")
    op.drop_table("weekly_reports")
    op.drop_table("report_subscriptions")


# -- end of part 2 -----------------------------------------------------------------------


def upgrade() -> None:
    """Apply every part's block."""
    _upgrade_sessions_and_rollups()
    _upgrade_reports()
    _upgrade_reader_rollups()


def downgrade() -> None:
    """Undo them, last first."""
    _downgrade_reports()
    _downgrade_sessions_and_rollups()
