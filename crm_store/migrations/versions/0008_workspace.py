"""issue 15: the librarian workspace (typing indicators, private notes, conversation language)

Conversations get the language their reader writes in (indexed, for the inbox's
filter) and the times the reader and a librarian last typed (typing indicators that
expire by time). Private notes are the existing ``notes`` table: nothing to change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the language and typing columns to conversations."""
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("reader_typing_at", crm_store.models.UtcDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("staff_typing_at", crm_store.models.UtcDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("staff_typing_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_conversations_language"), ["language"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_conversations_reader_typing_at"), ["reader_typing_at"], unique=False
        )


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_reader_typing_at"))
        batch_op.drop_index(batch_op.f("ix_conversations_language"))
        batch_op.drop_column("staff_typing_id")
        batch_op.drop_column("staff_typing_at")
        batch_op.drop_column("reader_typing_at")
        batch_op.drop_column("language")
