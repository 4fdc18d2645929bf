"""What the technician's tablet shows: my dispatched jobs in priority order,
colleagues' jobs awaiting the mutual check, and my open findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    CheckTick,
    JobTask,
    Photo,
    Supplement,
    SupplementStatus,
    TaskStatus,
    WorkOrderStatus,
)
from app.services.workshop import board as workshop_board
from app.services.workshop import car_context, checklist
from app.services.workshop import jobs as workshop
from app.services.workshop.board import Board, Card, TaskRow

# Orders a finding can still be reported on: the car is being worked on.
FINDING_STATUSES = (WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS)
OPEN_FINDINGS = (SupplementStatus.DRAFT.value, SupplementStatus.PENDING.value)


@dataclass
class Finding:
    supplement: Supplement
    photos: list[Photo] = field(default_factory=list)


@dataclass
class MyJobs:
    board: Board
    mine: list[tuple[Card, TaskRow]]  # dispatched to me, highest priority first
    to_check: list[tuple[Card, TaskRow]]  # colleagues' self-checked jobs awaiting 互检
    orders: list[Card]  # the cars I work on, where a finding can be reported
    findings: dict[int, list[Finding]]  # by work order id
    hours: dict[int, Decimal]  # clocked hours by task id
    cars: dict[int, car_context.Car] = field(default_factory=dict)  # by work order id
    checklists: dict[int, list[checklist.Item]] = field(default_factory=dict)  # by task id
    parts: dict[int, list[car_context.PartNeeded]] = field(default_factory=dict)  # by task id
    self_ticks: dict[int, list[CheckTick]] = field(default_factory=dict)  # to check, by task id


def _open_for_me(task: JobTask, me: int) -> bool:
    return task.technician_id == me and (
        task.status != TaskStatus.FINISHED.value or task.self_checked_at is None
    )


def _to_check(task: JobTask, me: int) -> bool:
    return (
        task.self_checked_at is not None
        and task.mutual_checked_at is None
        and task.technician_id != me
        and me not in workshop.worked_by(task)
    )


async def _findings(db: AsyncSession, order_ids: list[int], me: int) -> dict[int, list[Finding]]:
    """My findings the advisor has not settled yet, with their photos."""
    if not order_ids:
        return {}
    found = (
        await db.scalars(
            select(Supplement)
            .where(
                Supplement.work_order_id.in_(order_ids),
                Supplement.requested_by_id == me,
                Supplement.status.in_(OPEN_FINDINGS),
            )
            .order_by(Supplement.id)
        )
    ).all()
    by_id = {s.id: Finding(s) for s in found}
    if by_id:
        for photo in (
            await db.scalars(select(Photo).where(Photo.supplement_id.in_(by_id)).order_by(Photo.id))
        ).all():
            if photo.supplement_id is not None:
                by_id[photo.supplement_id].photos.append(photo)
    result: dict[int, list[Finding]] = {}
    for finding in by_id.values():
        result.setdefault(finding.supplement.work_order_id, []).append(finding)
    return result


async def my_jobs(db: AsyncSession, tz: ZoneInfo, me: int) -> MyJobs:
    board = await workshop_board.load(db, tz)
    mine = [(c, r) for c in board.cards for r in c.tasks if _open_for_me(r.task, me)]
    to_check = [(c, r) for c in board.cards for r in c.tasks if _to_check(r.task, me)]
    orders = [
        c
        for c in board.cards
        if c.order.status in FINDING_STATUSES and any(r.task.technician_id == me for r in c.tasks)
    ]
    hours = {r.task.id: workshop.clocked_hours(r.task, board.now) for _c, r in mine}
    findings = await _findings(db, [c.order.id for c in orders], me)
    rows = [*mine, *to_check]
    return MyJobs(
        board, mine, to_check, orders, findings, hours,
        cars=await car_context.cars(db, list(dict.fromkeys(c.order.id for c, _r in rows))),
        checklists={r.task.id: checklist.items_for(r.job, c.order) for c, r in rows},
        parts={r.task.id: car_context.parts(r.job) for c, r in rows},
        self_ticks={
            i: ticks[checklist.SELF]
            for i, ticks in (await checklist.current(db, [r.task for _c, r in to_check])).items()
        },
    )  # fmt: skip
