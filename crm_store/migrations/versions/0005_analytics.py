"""analytics tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Indexes on existing tables that the analysis and retention select by time.
_TIME_INDEXES = (
    ("raw_events", "ix_raw_events_timestamp", ["timestamp"]),
    ("raw_events", "ix_raw_events_type_time", ["type_name", "timestamp"]),
    ("messages", "ix_messages_sent_at", ["sent_at"]),
    ("conversations", "ix_conversations_started_at", ["started_at"]),
    ("handoffs", "ix_handoffs_requested_at", ["requested_at"]),
    ("feedback", "ix_feedback_created_at", ["created_at"]),
)


def upgrade() -> None:
    utc = crm_store.models.UtcDateTime
    op.create_table(
        "daily_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("contained_conversations", sa.Integer(), nullable=False),
        sa.Column("handoff_conversations", sa.Integer(), nullable=False),
        sa.Column("handoffs", sa.Integer(), nullable=False),
        sa.Column("abandoned_handoffs", sa.Integer(), nullable=False),
        sa.Column("responded_handoffs", sa.Integer(), nullable=False),
        sa.Column("first_response_seconds_sum", sa.Float(), nullable=False),
        sa.Column("first_response_seconds_median", sa.Float(), nullable=True),
        sa.Column("resolved_handoffs", sa.Integer(), nullable=False),
        sa.Column("resolution_seconds_sum", sa.Float(), nullable=False),
        sa.Column("resolution_seconds_median", sa.Float(), nullable=True),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("positive_ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("surveys_sent", sa.Integer(), nullable=False),
        sa.Column("surveys_answered", sa.Integer(), nullable=False),
        sa.Column("reader_messages", sa.Integer(), nullable=False),
        sa.Column("fallback_messages", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("positive_comments", sa.Integer(), nullable=False),
        sa.Column("negative_comments", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("computed_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "channel", name="uq_daily_metrics_day_channel"),
    )
    with op.batch_alter_table("daily_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_metrics_day"), ["day"], unique=False)
    op.create_table(
        "analysis_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("finished_at", utc(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("churn_active_days", sa.Integer(), nullable=False),
        sa.Column("churn_quiet_days", sa.Integer(), nullable=False),
        sa.Column("churned_readers", sa.Integer(), nullable=False),
        sa.Column("loyalty_window_days", sa.Integer(), nullable=False),
        sa.Column("active_readers", sa.Integer(), nullable=False),
        sa.Column("repeat_readers", sa.Integer(), nullable=False),
        sa.Column("loyalty_conversations", sa.Integer(), nullable=False),
        sa.Column("unanswered_questions", sa.Integer(), nullable=False),
        sa.Column("clustered_questions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "churned_readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_day", sa.Date(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("last_active_at", utc(), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_day"], ["analysis_runs.day"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_day", "reader_id", name="uq_churned_run_reader"),
    )
    op.create_table(
        "question_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_day", sa.Date(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", utc(), nullable=False),
        sa.Column("last_seen_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["run_day"], ["analysis_runs.day"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_day", "rank", name="uq_question_clusters_rank"),
    )
    op.create_table(
        "retention_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ran_at", utc(), nullable=False),
        sa.Column("cutoff", utc(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    for table, name, columns in _TIME_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(_TIME_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    op.drop_table("retention_runs")
    op.drop_table("question_clusters")
    op.drop_table("churned_readers")
    op.drop_table("analysis_runs")
    with op.batch_alter_table("daily_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_metrics_day"))
    op.drop_table("daily_metrics")
