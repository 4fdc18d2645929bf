"""The workshop (车间): dispatched jobs, clocked time, the self and mutual checks,
and promised-time changes agreed with the customer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin


class TaskStatus(enum.StrEnum):
    WAITING = "waiting"  # signed, not yet dispatched (派工)
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class JobTask(IdMixin, CreatedMixin, Base):
    """The workshop's side of one job: who does it, when, and its checks.

    Kept apart from `Job`, which is signed content and never changes."""

    __tablename__ = "job_task"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), unique=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.WAITING.value, index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    dispatched_at: Mapped[datetime | None]
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Set while the job is being redone after a failed final check.
    rework: Mapped[bool] = mapped_column(default=False)
    rework_note: Mapped[str] = mapped_column(Text, default="")
    # 自检: the technician who did the job.
    self_checked_at: Mapped[datetime | None]
    # 互检: another technician or the foreman.
    mutual_checked_at: Mapped[datetime | None]
    mutual_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    entries: Mapped[list[TimeEntry]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TimeEntry.id"
    )


# An open entry is the technician's running clock: the database keeps it to one
# per technician, whatever two requests do at the same moment.
RUNNING = text("finished_at IS NULL")


class TimeEntry(IdMixin, Base):
    """Clocked time on a job: one row per start, closed by finish or pause."""

    __tablename__ = "time_entry"
    __table_args__ = (
        Index(
            "uq_time_entry_running_technician_id", "technician_id", unique=True,
            sqlite_where=RUNNING, postgresql_where=RUNNING,
        ),
    )  # fmt: skip

    task_id: Mapped[int] = mapped_column(ForeignKey("job_task.id", ondelete="CASCADE"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)  # the board's clocked hours
    finished_at: Mapped[datetime | None]


class CheckTick(IdMixin, Base):
    """One item of a self-check (自检) or mutual check (互检) list: ticked, or not
    applicable with a reason; by whom and when. Kept after a rework, so every
    round's ticks stay on the record (a round's ticks share its check's time)."""

    __tablename__ = "check_tick"

    task_id: Mapped[int] = mapped_column(ForeignKey("job_task.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(8))  # "self" or "mutual"
    item: Mapped[str] = mapped_column(String(32))
    not_applicable: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    ticked_at: Mapped[datetime]
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class PromiseChange(IdMixin, CreatedMixin, Base):
    """The customer was called before the promised time passed and agreed a new one."""

    __tablename__ = "promise_change"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    old_at: Mapped[datetime | None]
    new_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
