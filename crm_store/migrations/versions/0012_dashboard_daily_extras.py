"""issue 17: the daily rollups carry their hour counts and handed-off durations

``dashboard_daily_rollups`` gets ``hour_00`` … ``hour_23`` (conversations that started
in each local hour) and ``first_response_values`` / ``resolution_values`` (the handed-off
sessions' seconds, comma-separated), so that the heatmap and the overview's medians read
the daily rollups instead of the hourly rollups and the sessions
(``crm_store.models.dashboard``). Existing rows are filled from the stored hourly
rollups and session facts (``crm_store.rollups.fill_daily_extras``), so no rebuild is
needed. The hourly rollups' covering index for the heatmap
(``ix_dashboard_rollups_heatmap``, migration 0010) has no reader left and is dropped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_store.models.dashboard import DURATION_LISTS, HOUR_COLUMNS
from crm_store.rollups import fill_daily_extras

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "dashboard_daily_rollups"
HEATMAP_COVER = ("day", "hour", "channel", "branch", "language", "intent", "conversations")
"""The dropped index's columns (migration 0010), recreated by a downgrade."""


def upgrade() -> None:
    """Add the columns, then fill them for the rows already there."""
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in HOUR_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
            )
        for name in DURATION_LISTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
    fill_daily_extras(op.get_bind())
    # A store migrated before 0010 gained this index (a perf follow-up) does not have it.
    op.execute(sa.text("DROP INDEX IF EXISTS ix_dashboard_rollups_heatmap"))


def downgrade() -> None:
    """Drop the columns (the hourly rollups and the sessions still hold the same facts)."""
    op.create_index("ix_dashboard_rollups_heatmap", "dashboard_rollups", list(HEATMAP_COVER))
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in (*DURATION_LISTS, *reversed(HOUR_COLUMNS)):
            batch_op.drop_column(name)
