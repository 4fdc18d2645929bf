"""one running clock per technician

A technician works on one car at a time: at most one open time entry each.
Rows that broke that before are mended first: every open entry but the
technician's latest is closed when the next job started, and a job left
without a running clock goes back to dispatched (paused).

Revision ID: 7be2360382f1
Revises: d64e33453515
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7be2360382f1"
down_revision: str | None = "d64e33453515"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("finished_at IS NULL")
# Each open entry but the technician's latest ends when their next entry started.
CLOSE_EXTRA_ENTRIES = """
        UPDATE time_entry SET finished_at = COALESCE(
            (SELECT min(later.started_at) FROM time_entry later
              WHERE later.technician_id = time_entry.technician_id
                AND later.started_at > time_entry.started_at),
            time_entry.started_at)
        WHERE finished_at IS NULL AND id <> (
            SELECT latest.id FROM time_entry latest
             WHERE latest.technician_id = time_entry.technician_id AND latest.finished_at IS NULL
             ORDER BY latest.started_at DESC, latest.id DESC LIMIT 1)
"""
# A job whose clock was stopped that way is paused: dispatched, to resume.
PAUSE_CLOCKLESS_TASKS = """
        UPDATE job_task SET status = 'dispatched', version = version + 1
        WHERE status = 'in_progress' AND NOT EXISTS (
            SELECT 1 FROM time_entry e WHERE e.task_id = job_task.id AND e.finished_at IS NULL)
"""


def upgrade() -> None:
    op.execute(CLOSE_EXTRA_ENTRIES)
    op.execute(PAUSE_CLOCKLESS_TASKS)
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.create_index(
            "uq_time_entry_running_technician_id",
            ["technician_id"],
            unique=True,
            sqlite_where=RUNNING,
            postgresql_where=RUNNING,
        )


def downgrade() -> None:
    with op.batch_alter_table("time_entry", schema=None) as batch_op:
        batch_op.drop_index("uq_time_entry_running_technician_id")
