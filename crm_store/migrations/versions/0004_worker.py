"""worker tables: surveys, follow-ups, notifications, reader preferences, sent reminders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc() -> crm_store.models.UtcDateTime:
    return crm_store.models.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=20), nullable=False),
        sa.Column("resolved_at", _utc(), nullable=False),
        sa.Column("scheduled_at", _utc(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("sent_sender_id", sa.String(length=255), nullable=True),
        sa.Column("sent_channel", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.ForeignKeyConstraint(["feedback_id"], ["feedback.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.create_index("ix_surveys_status_scheduled", "surveys", ["status", "scheduled_at"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("sent_sender_id", sa.String(length=255), nullable=True),
        sa.Column("sent_channel", sa.String(length=40), nullable=True),
        sa.Column("answer", sa.String(length=10), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_follow_ups_conversation_id", "follow_ups", ["conversation_id"])
    op.create_index("ix_follow_ups_status_due", "follow_ups", ["status", "due_date"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("email_status", sa.String(length=20), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("read_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notifications_staff_user_id", "notifications", ["staff_user_id"])
    op.create_table(
        "reader_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("due_date_reminders", sa.Boolean(), nullable=False),
        sa.Column("hold_ready_notices", sa.Boolean(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("library_patron_id", sa.String(length=64), nullable=True),
        sa.Column("consent_given_at", _utc(), nullable=True),
        sa.Column("consent_withdrawn_at", _utc(), nullable=True),
        sa.Column("consent_source", sa.String(length=40), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reader_id"),
    )
    op.create_table(
        "sent_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reader_id", "kind", "item_key", name="uq_sent_reminder"),
    )
    op.create_index("ix_sent_reminders_reader_id", "sent_reminders", ["reader_id"])


def downgrade() -> None:
    op.drop_index("ix_sent_reminders_reader_id", table_name="sent_reminders")
    op.drop_table("sent_reminders")
    op.drop_table("reader_preferences")
    op.drop_index("ix_notifications_staff_user_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_follow_ups_status_due", table_name="follow_ups")
    op.drop_index("ix_follow_ups_conversation_id", table_name="follow_ups")
    op.drop_table("follow_ups")
    op.drop_index("ix_surveys_status_scheduled", table_name="surveys")
    op.drop_table("surveys")
