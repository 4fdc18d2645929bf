"""check ticks: the self-check and mutual check as checklists

Each item of a job's self-check (自检) or mutual check (互检) list is recorded:
ticked, or not applicable with a reason, by whom and when.

Revision ID: a4d8e61c0b37
Revises: b7d3e9a14c20
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "a4d8e61c0b37"
down_revision: str | None = "b7d3e9a14c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_tick",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("not_applicable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "ticked_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("ticked_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["job_task.id"],
            name=op.f("fk_check_tick_task_id_job_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticked_by_id"], ["staff_user.id"], name=op.f("fk_check_tick_ticked_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_tick")),
    )
    with op.batch_alter_table("check_tick", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_tick_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_tick", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_tick_task_id"))
    op.drop_table("check_tick")
