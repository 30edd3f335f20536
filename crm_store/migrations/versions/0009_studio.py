"""issue 16: the admin studio (training-data edits, NLU inbox labels, FAQ candidates, model versions)

Reserved in the chain so that the issues' work can land in any order; a revision with
nothing to change upgrades and downgrades as a no-op.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
