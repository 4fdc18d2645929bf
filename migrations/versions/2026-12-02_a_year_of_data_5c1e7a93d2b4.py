"""a year of data: indexes for what grows with the history

Measured with `python -m bench year-bench` on 37,000 orders (bench/README.md): the lane
board's started check-ins by appointment, the workshop board's orders delivered today,
the API's orders changed since a time (in that order), and the month's first final
checks each read the whole table without these.

Revision ID: 5c1e7a93d2b4
Revises: 2888e9b07d26
Create Date: 2026-12-02 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c1e7a93d2b4"
down_revision: str | None = "2888e9b07d26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_work_order_appointment_id", "work_order", ["appointment_id"]),
    ("ix_work_order_status_delivered_at", "work_order", ["status", "delivered_at"]),
    ("ix_work_order_updated_at", "work_order", ["updated_at"]),
    ("ix_inspection_created_at", "inspection", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
