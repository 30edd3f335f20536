"""issue 18: trust (data-rights requests, outbox retries, per-store retention)

Reserved in the chain so that the issues' work can land in any order; a revision with
nothing to change upgrades and downgrades as a no-op.

Part 2 (data rights, the email outbox): the ``email_outbox`` table, every outbound
mail kept until the SMTP server accepts it (``crm_store.models.trust``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Part 2: the email outbox."""
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=512), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("mail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.Column("claimed_at", crm_store.models.UtcDateTime(), nullable=True),
        sa.Column("expires_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.Column("created_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.Column("sent_at", crm_store.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_outbox_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_outbox_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_email_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    """Part 2: drop the email outbox."""
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_outbox_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_email_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_email_outbox_sender_id"))
    op.drop_table("email_outbox")
