"""The workshop (车间): dispatch (派工), the technician's clocked work, the
self-check (自检) and the mutual check (互检); a finding from the car goes to
the advisor as a supplement request.

Kept as one module (~320 lines) because these are the steps of one task's life,
each guarded by the same checks (`get_task`, `_current`, `_open`, `_mine`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.i18n import _
from app.models import (
    Job,
    JobTask,
    Role,
    StaffRole,
    StaffUser,
    Supplement,
    TaskStatus,
    TimeEntry,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, board_events, work_orders
from app.services.audit import Actor
from app.services.photos import receive as photo_files
from app.services.records import get_or_404
from app.services.storage.files import FileStore
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from app.services.workshop import checklist

DISPATCH_ROLES = (Role.FOREMAN.value, Role.SERVICE_MANAGER.value)
MUTUAL_CHECK_ROLES = (Role.TECHNICIAN.value, Role.FOREMAN.value)


async def order_tasks(session: AsyncSession, order_id: int) -> list[tuple[JobTask, Job]]:
    rows = await session.execute(
        select(JobTask, Job)
        .join(Job, Job.id == JobTask.job_id)
        .where(JobTask.work_order_id == order_id)
        .order_by(Job.id)
    )
    return [(task, job) for task, job in rows]


async def get_task(session: AsyncSession, task_id: int) -> tuple[JobTask, Job, WorkOrder]:
    task = await get_or_404(session, JobTask, task_id, _("That job does not exist."))
    job = await session.get(Job, task.job_id)
    order = await session.get(WorkOrder, task.work_order_id)
    assert job is not None  # noqa: S101  (foreign key)
    assert order is not None  # noqa: S101
    return task, job, order


def _current(task: JobTask, version: int | None) -> None:
    if version is not None and version != task.version:
        raise Conflict(_("Someone else changed this job. Reload to see the latest."))


def _open(order: WorkOrder) -> None:
    if order.status not in (WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS):
        raise Conflict(_("This work order is not in the workshop any more."))


def _mine(task: JobTask, actor: Actor) -> None:
    if task.technician_id is None or task.technician_id != actor.user_id:
        raise Forbidden(_("This job is not dispatched to you. Ask the foreman."))


def clocked_hours(task: JobTask, now: datetime | None = None) -> Decimal:
    """Hours on the clock; a running entry counts up to `now` when given."""
    seconds = 0.0
    for entry in task.entries:
        end = entry.finished_at or now
        if end is not None:
            seconds += max(0.0, (end - entry.started_at).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def worked_by(task: JobTask) -> set[int]:
    """Everyone who clocked time on the job."""
    return {entry.technician_id for entry in task.entries}


async def technicians(session: AsyncSession) -> list[StaffUser]:
    return list(
        (
            await session.scalars(
                select(StaffUser)
                .join(StaffRole, StaffRole.user_id == StaffUser.id)
                .where(StaffRole.role == Role.TECHNICIAN, StaffUser.is_active.is_(True))
                .order_by(StaffUser.display_name, StaffUser.id)
            )
        ).all()
    )


async def dispatch(
    session: AsyncSession,
    task_id: int,
    technician_id: int | None,
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> JobTask:
    if not actor.has_role(*DISPATCH_ROLES):
        raise Forbidden(_("Only the foreman dispatches jobs."))
    task, job, order = await get_task(session, task_id)
    _current(task, version)
    _open(order)
    if task.status not in (TaskStatus.WAITING.value, TaskStatus.DISPATCHED.value):
        raise Conflict(_("This job has already been started; it cannot be dispatched again."))
    technician = await session.get(StaffUser, technician_id) if technician_id else None
    if technician is None or not technician.is_active or Role.TECHNICIAN not in technician.roles:
        raise InvalidInput(_("Choose a technician."), field="technician_id")
    task.technician_id = technician.id
    task.dispatched_at = now
    task.dispatched_by_id = actor.user_id
    task.status = TaskStatus.DISPATCHED.value
    audit.record(
        session, actor, "job.dispatched", "work_order", order.id,
        job=job.id, technician=technician.id, rework=task.rework,
    )  # fmt: skip
    board_events.changed(session)
    return task


@dataclass(frozen=True)
class Started:
    task: JobTask
    paused: Job | None  # the job whose clock stopped because this one started


async def running_entry(session: AsyncSession, technician_id: int) -> TimeEntry | None:
    """The technician's running clock, if any (the database allows one)."""
    return await session.scalar(
        select(TimeEntry).where(
            TimeEntry.technician_id == technician_id, TimeEntry.finished_at.is_(None)
        )
    )


async def _pause_running(
    session: AsyncSession, actor: Actor, now: datetime, starting: JobTask
) -> Job | None:
    """A technician works on one car at a time, so the clock follows them: the job
    they were on stops (its entry closed, the job back to dispatched to resume)."""
    entry = await running_entry(session, actor.user_id or 0)
    if entry is None or entry.task_id == starting.id:
        return None
    task, job, order = await get_task(session, entry.task_id)
    entry.finished_at = max(now, entry.started_at)
    if task.status == TaskStatus.IN_PROGRESS.value:
        task.status = TaskStatus.DISPATCHED.value
    audit.record(
        session, actor, "job.paused", "work_order", order.id,
        job=job.id, hours=str(clocked_hours(task)), for_job=starting.job_id,
    )  # fmt: skip
    return job


async def _flush_clock(session: AsyncSession) -> None:
    """Two taps at once (one job twice, or two jobs) reach here together: the
    job's version or the one-running-clock index refuses the second."""
    try:
        async with session.begin_nested():
            await session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise Conflict(
            _("Your clock changed on another tablet a moment ago. Reload to see your jobs.")
        ) from exc


async def start_job(
    session: AsyncSession, task_id: int, actor: Actor, now: datetime, version: int | None = None
) -> Started:
    task, job, order = await get_task(session, task_id)
    _mine(task, actor)
    _current(task, version)
    _open(order)
    if task.status == TaskStatus.IN_PROGRESS.value:
        raise Conflict(_("This job is already started."))
    if task.status != TaskStatus.DISPATCHED.value:
        raise Conflict(_("This job is finished."))
    paused = await _pause_running(session, actor, now, task)
    await _flush_clock(session)  # the old entry closed before the new one opens
    task.entries.append(TimeEntry(technician_id=actor.user_id or 0, started_at=now))
    task.status = TaskStatus.IN_PROGRESS.value
    if order.status == WorkOrderStatus.SIGNED:
        work_orders.change_status(session, order, WorkOrderStatus.IN_PROGRESS, actor)
    await _flush_clock(session)
    audit.record(session, actor, "job.started", "work_order", order.id, job=job.id)
    board_events.changed(session)
    return Started(task, paused)


async def start(
    session: AsyncSession, task_id: int, actor: Actor, now: datetime, version: int | None = None
) -> JobTask:
    """Clock on to a job; the job running before, if any, is paused."""
    return (await start_job(session, task_id, actor, now, version)).task


async def finish(
    session: AsyncSession, task_id: int, actor: Actor, now: datetime, version: int | None = None
) -> JobTask:
    task, job, order = await get_task(session, task_id)
    _mine(task, actor)
    _current(task, version)
    running = [e for e in task.entries if e.finished_at is None]
    if task.status != TaskStatus.IN_PROGRESS.value or not running:
        raise InvalidInput(_("This job has not been started. Start it before finishing it."))
    entry = running[-1]
    if now < entry.started_at:
        raise InvalidInput(_("A job cannot finish before it started. Check the tablet's clock."))
    entry.finished_at = now
    task.status = TaskStatus.FINISHED.value
    audit.record(
        session, actor, "job.finished", "work_order", order.id,
        job=job.id, hours=str(clocked_hours(task)),
    )  # fmt: skip
    board_events.changed(session)
    return task


async def self_check(
    session: AsyncSession,
    task_id: int,
    actor: Actor,
    now: datetime,
    version: int | None = None,
    form: Mapping[str, Any] | None = None,
) -> JobTask:
    """The technician's self-check: every item of the job's list ticked (or not
    applicable, with a reason) in `form`, else refused at the first open item."""
    task, job, order = await get_task(session, task_id)
    _mine(task, actor)
    _current(task, version)
    if task.status != TaskStatus.FINISHED.value:
        raise InvalidInput(_("Finish the job before its self-check."))
    if task.self_checked_at is not None:
        raise Conflict(_("The self-check is already ticked."))
    answers = checklist.parse(form or {}, checklist.items_for(job, order))
    task.self_checked_at = now
    checklist.record(session, task, checklist.SELF, answers, actor, now)
    audit.record(
        session, actor, "job.self_check", "work_order", order.id,
        job=job.id, not_applicable=[a.item for a in answers if a.not_applicable],
    )  # fmt: skip
    board_events.changed(session)
    return task


async def mutual_check(
    session: AsyncSession,
    task_id: int,
    actor: Actor,
    now: datetime,
    version: int | None = None,
    form: Mapping[str, Any] | None = None,
) -> JobTask:
    """Another technician or the foreman goes through the job's list again (as the
    self-check); the last job checked sends the car to QC."""
    task, job, order = await get_task(session, task_id)
    if not actor.has_role(*MUTUAL_CHECK_ROLES):
        raise Forbidden(_("The mutual check is done by another technician or the foreman."))
    if actor.user_id in worked_by(task) or actor.user_id == task.technician_id:
        raise Forbidden(
            _("You worked on this job. The mutual check is done by another technician.")
        )
    _current(task, version)
    if task.self_checked_at is None:
        raise InvalidInput(_("The technician's self-check comes first."))
    if task.mutual_checked_at is not None:
        raise Conflict(_("The mutual check is already ticked."))
    answers = checklist.parse(form or {}, checklist.items_for(job, order))
    task.mutual_checked_at = now
    task.mutual_checked_by_id = actor.user_id
    checklist.record(session, task, checklist.MUTUAL, answers, actor, now)
    audit.record(
        session, actor, "job.mutual_check", "work_order", order.id,
        job=job.id, not_applicable=[a.item for a in answers if a.not_applicable],
    )  # fmt: skip
    if all(t.mutual_checked_at is not None for t, _j in await order_tasks(session, order.id)):
        work_orders.change_status(session, order, WorkOrderStatus.QC, actor)
    board_events.changed(session)
    return task


async def report_finding(
    session: AsyncSession,
    order_id: int,
    note: str | None,
    actor: Actor,
    category: str | None = None,
    *,
    safety: bool = False,
    photos: Sequence[bytes] = (),
    store: FileStore | None = None,
) -> Supplement:
    """Something found on the car: a draft supplement the advisor prices and
    the customer approves before the work is done, with the photos taken (each
    through the photo pipeline first: a refused one refuses the report, nothing
    recorded) and the safety flag. It reaches the advisor at once (lane board,
    order, workshop board); more photos may follow by upload."""
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    mine = [t for t, _j in await order_tasks(session, order.id) if t.technician_id == actor.user_id]
    if not mine and not actor.has_role(*DISPATCH_ROLES):
        raise Forbidden(_("This job is not dispatched to you. Ask the foreman."))
    if not " ".join((note or "").split()):
        raise InvalidInput(_("Describe what you found."), field="note")
    chosen = findings.parse_category(category)
    if len(photos) > findings.MAX_PHOTOS:
        raise InvalidInput(
            _("At most %(n)s photos with the report; add more after it.", n=findings.MAX_PHOTOS),
            field="photos",
        )
    prepared = []
    for data in photos:
        try:
            prepared.append((data, await photo_files.prepare(data)))
        except DomainError as exc:
            exc.field = "photos"
            raise
    supplement = await supplements.create(session, order, note, actor, chosen, safety=safety)
    if prepared and store is not None:
        await findings.attach_photos(session, supplement, prepared, store, actor)
    audit.record(
        session, actor, "finding.reported", "work_order", order.id,
        supplement=supplement.id, category=chosen, safety=supplement.safety, photos=len(prepared),
    )  # fmt: skip
    board_events.changed(session)
    return supplement


async def send_back(
    session: AsyncSession, order: WorkOrder, job_ids: Iterable[int], note: str
) -> list[JobTask]:
    """After a failed final check: the named jobs go back to their technician as rework."""
    redo = []
    wanted = set(job_ids)
    for task, job in await order_tasks(session, order.id):
        if job.id in wanted:
            task.status = TaskStatus.DISPATCHED.value
            task.rework = True
            task.rework_note = note
            task.self_checked_at = None
            task.mutual_checked_at = None
            task.mutual_checked_by_id = None
            redo.append(task)
    board_events.changed(session)
    return redo
