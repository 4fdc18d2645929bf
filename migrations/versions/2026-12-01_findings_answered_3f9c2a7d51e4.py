"""findings: category and safety flag, the advisor's withdrawal with a reason, the
safety sentence a customer signs when declining, recommendations from declined findings

Revision ID: 3f9c2a7d51e4
Revises: 7be2360382f1
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "3f9c2a7d51e4"
down_revision: str | None = "7be2360382f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supplement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("safety", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("safety_statement", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "withdrawn_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_supplement_withdrawn_by_id_staff_user"),
            "staff_user",
            ["withdrawn_by_id"],
            ["id"],
        )

    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplement_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("safety", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_recommendation_supplement_id_supplement"),
            "supplement",
            ["supplement_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_recommendation_supplement_id_supplement"), type_="foreignkey"
        )
        batch_op.drop_column("safety")
        batch_op.drop_column("supplement_id")

    with op.batch_alter_table("supplement", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_supplement_withdrawn_by_id_staff_user"), type_="foreignkey"
        )
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("safety_statement")
        batch_op.drop_column("safety")
        batch_op.drop_column("category")
