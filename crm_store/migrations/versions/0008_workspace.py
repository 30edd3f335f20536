"""issue 15: the librarian workspace (typing indicators, private notes, conversation language)

Reserved in the chain so that the issues' work can land in any order; a revision with
nothing to change upgrades and downgrades as a no-op.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
