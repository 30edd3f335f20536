"""canned responses: personal (owner), language, tag, updated_at; tickets: assignee index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OWNER_FK = "fk_canned_responses_owner_id_staff_users"


def upgrade() -> None:
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("tag", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("updated_at", crm_store.models.UtcDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_canned_responses_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_foreign_key(OWNER_FK, "staff_users", ["owner_id"], ["id"])
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_assignee_id"), ["assignee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_assignee_id"))
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.drop_constraint(OWNER_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_canned_responses_owner_id"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("tag")
        batch_op.drop_column("language")
        batch_op.drop_column("owner_id")
