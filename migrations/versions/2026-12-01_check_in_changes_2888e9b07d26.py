"""check-in changes a tablet queued: each applied once

Revision ID: 2888e9b07d26
Revises: 3f9c2a7d51e4
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "2888e9b07d26"
down_revision: str | None = "3f9c2a7d51e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_in_change",
        sa.Column("check_in_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "applied_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["check_in.id"],
            name=op.f("fk_check_in_change_check_in_id_check_in"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_change")),
        sa.UniqueConstraint(
            "check_in_id", "change_id", name=op.f("uq_check_in_change_check_in_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("check_in_change")
