"""late and no-show minutes: the lane board's thresholds for a booking without arrival

Revision ID: 9b3e4f1a7c20
Revises: 5c1e7a93d2b4
Create Date: 2026-12-02 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b3e4f1a7c20"
down_revision: str | None = "5c1e7a93d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dealership") as batch:
        batch.add_column(
            sa.Column("late_minutes", sa.Integer(), nullable=False, server_default=sa.text("'15'"))
        )
        batch.add_column(
            sa.Column(
                "no_show_minutes", sa.Integer(), nullable=False, server_default=sa.text("'60'")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("dealership") as batch:
        batch.drop_column("no_show_minutes")
        batch.drop_column("late_minutes")
