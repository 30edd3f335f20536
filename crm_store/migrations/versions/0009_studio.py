"""issue 16: the admin studio (training data, NLU inbox labels, FAQ candidates, model versions)

Reserved in the chain so that the issues' work can land in any order. Each part of the
studio adds its tables in its own block below.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# -- part 2: NLU inbox, learning loop (crm_store.models.studio_inbox) ----------------


def _upgrade_inbox() -> None:
    """The inbox's labels, the FAQ candidates and the nightly clusters' members."""
    op.create_table(
        "nlu_inbox_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=160), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=160), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_table(
        "faq_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("question_message_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("suggested_label", sa.String(length=160), nullable=True),
        sa.Column("suggested_score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=160), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", crm_store.models.UtcDateTime(), nullable=True),
        sa.Column("created_at", crm_store.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["question_message_id"], ["messages.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handoff_id"),
    )
    op.create_index(
        op.f("ix_faq_candidates_conversation_id"), "faq_candidates", ["conversation_id"]
    )
    op.create_index(op.f("ix_faq_candidates_status"), "faq_candidates", ["status"])
    op.create_table(
        "question_cluster_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["question_clusters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "message_id", name="uq_question_cluster_member"),
    )
    op.create_index(
        op.f("ix_question_cluster_members_message_id"),
        "question_cluster_members",
        ["message_id"],
    )


def _downgrade_inbox() -> None:
    op.drop_index(
        op.f("ix_question_cluster_members_message_id"), table_name="question_cluster_members"
    )
    op.drop_table("question_cluster_members")
    op.drop_index(op.f("ix_faq_candidates_status"), table_name="faq_candidates")
    op.drop_index(op.f("ix_faq_candidates_conversation_id"), table_name="faq_candidates")
    op.drop_table("faq_candidates")
    op.drop_table("nlu_inbox_labels")


# -- upgrade / downgrade: every part's block ------------------------------------------


def upgrade() -> None:
    """Create the studio's tables."""
    _upgrade_inbox()


def downgrade() -> None:
    """Drop the studio's tables."""
    _downgrade_inbox()
