"""issue 16: the NLU inbox's flagged messages, kept by the worker from watermarks

``nlu_inbox_flags`` holds every reader message with a reason to be in the NLU inbox (its
reasons, masked text, intent and confidence, channel and time), and
``nlu_inbox_flag_state`` the watermarks and thresholds they were computed with
(``crm_store.models.studio_inbox``). A request of the inbox reads the flags of its window
instead of every message of it. The flags of the configured window are filled here from
the stored messages (``crm_store.nlu_inbox_flags.rebuild_flags``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models.core import UtcDateTime
from crm_store.nlu_inbox_flags import rebuild_flags
from crm_store.nlu_inbox_reasons import InboxRules
from ric_config.studio_inbox import NluInboxConfig

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables, then flag the messages of the configured window."""
    op.create_table(
        "nlu_inbox_flags",
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("intent", sa.String(120), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("reasons", sa.String(200), nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
    )  # fmt: skip
    op.create_index("ix_nlu_inbox_flags_conversation_id", "nlu_inbox_flags", ["conversation_id"])
    op.create_index("ix_nlu_inbox_flags_sent_at", "nlu_inbox_flags", ["sent_at"])
    op.create_table(
        "nlu_inbox_flag_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("covers_since", UtcDateTime(), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.Column("last_handoff_id", sa.Integer(), nullable=False),
        sa.Column("last_feedback_id", sa.Integer(), nullable=False),
        sa.Column("low_confidence", sa.Float(), nullable=False),
        sa.Column("rephrase_seconds", sa.Integer(), nullable=False),
        sa.Column("low_rating", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", UtcDateTime(), nullable=False),
    )
    with Session(bind=op.get_bind()) as session:
        rebuild_flags(session, InboxRules.from_config(NluInboxConfig(), clock.now()))


def downgrade() -> None:
    """Drop the tables (the messages still hold everything the flags were computed from)."""
    op.drop_table("nlu_inbox_flag_state")
    op.drop_index("ix_nlu_inbox_flags_sent_at", table_name="nlu_inbox_flags")
    op.drop_index("ix_nlu_inbox_flags_conversation_id", table_name="nlu_inbox_flags")
    op.drop_table("nlu_inbox_flags")
