"""issue 17: the manager dashboard (channel sessions, rollup tables, report subscriptions)

Reserved in the chain so that the issues' work can land in any order; a revision with
nothing to change upgrades and downgrades as a no-op.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
