"""board figure indexes: the 看板 counts a day's arrivals, signatures, deliveries and
clocked time by their timestamps; at a year of orders these need an index each

Revision ID: b7e4a1c9d203
Revises: 8d2f5b7c1e90
Create Date: 2026-12-02 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7e4a1c9d203"
down_revision: str | None = "8d2f5b7c1e90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("check_in", "arrived_at"),
    ("work_order", "signed_at"),
    ("work_order", "delivered_at"),
    ("time_entry", "started_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
