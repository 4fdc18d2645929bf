"""damage marks: the diagram's view each mark is on (top, front, rear, left, right);
marks made before there were views are on the top view

Revision ID: b7d3e9a14c20
Revises: 9b3e4f1a7c20
Create Date: 2026-12-02 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d3e9a14c20"
down_revision: str | None = "9b3e4f1a7c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy of the table: on SQLite a copy drops the old
    # table, and with foreign keys on that would unlink every photo from its mark.
    op.add_column(
        "damage_mark",
        sa.Column("view", sa.String(length=8), nullable=False, server_default="top"),
    )


def downgrade() -> None:
    op.drop_column("damage_mark", "view")
