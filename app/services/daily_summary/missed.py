"""What the day missed, and why, as the records say: cars not ready at the promised time
(with the reasons recorded when the promise was moved), reworks (the failed final checks'
reasons) and the complaints received."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Complaint, Inspection, PromiseChange, Vehicle, WorkOrder
from app.services.board.scope import promised_time
from app.services.reports.period import Period


@dataclass(frozen=True)
class LateCar:
    work_order_id: int
    number: str
    plate: str
    promised_at: datetime
    ready_at: datetime | None  # None: still not ready when the summary was made
    reasons: tuple[str, ...]  # why the promise was moved, as recorded, oldest first


@dataclass(frozen=True)
class Rework:
    work_order_id: int
    number: str
    plate: str
    at: datetime
    round: int
    reason_category: str
    note: str


@dataclass(frozen=True)
class ComplaintReceived:
    complaint_id: int
    number: str
    severity: str
    received_at: datetime
    words: str
    plate: str


async def late_cars(session: AsyncSession, day: Period, now: datetime) -> list[LateCar]:
    """Cars delivered in the day that were ready after their (last) promised time, and
    cars promised within the day that were still not ready when the day ended (or now)."""
    passed = (
        select(Inspection.work_order_id, func.min(Inspection.created_at).label("ready_at"))
        .where(Inspection.passed.is_(True))
        .group_by(Inspection.work_order_id)
        .subquery()
    )
    cut = min(now, day.ends_at)
    promised = promised_time()  # the last time agreed with the customer
    rows = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.number,
                Vehicle.plate,
                promised.label("promised_at"),
                WorkOrder.delivered_at,
                passed.c.ready_at,
            )
            .join(Vehicle, Vehicle.id == WorkOrder.vehicle_id)
            .outerjoin(passed, passed.c.work_order_id == WorkOrder.id)
            .where(
                promised.is_not(None),
                or_(
                    and_(
                        WorkOrder.delivered_at >= day.starts_at,
                        WorkOrder.delivered_at < day.ends_at,
                    ),
                    and_(
                        # Read through the indexes first: promised in the day at signing
                        # or by a later call; then the time last agreed decides.
                        or_(
                            and_(
                                WorkOrder.promised_at >= day.starts_at,
                                WorkOrder.promised_at < cut,
                            ),
                            WorkOrder.id.in_(
                                select(PromiseChange.work_order_id).where(
                                    PromiseChange.new_at >= day.starts_at,
                                    PromiseChange.new_at < cut,
                                )
                            ),
                        ),
                        promised >= day.starts_at,
                        promised < cut,
                    ),
                ),
            )
            .order_by(promised, WorkOrder.id)
        )
    ).all()
    late: list[tuple[int, str, str, datetime, datetime | None]] = []
    for order_id, number, plate, promised_at, delivered_at, ready_at in rows:
        ready = ready_at or delivered_at
        if ready is not None and ready > cut:
            ready = None  # ready only after the day ended: not ready that day
        if ready is None or ready > promised_at:
            late.append((order_id, number, plate, promised_at, ready))
    reasons: dict[int, list[str]] = defaultdict(list)
    if late:
        changes = await session.execute(
            select(PromiseChange.work_order_id, PromiseChange.reason)
            .where(PromiseChange.work_order_id.in_([row[0] for row in late]))
            .order_by(PromiseChange.created_at, PromiseChange.id)
        )
        for order_id, reason in changes.tuples():
            if reason.strip():
                reasons[order_id].append(reason.strip())
    return [LateCar(*row, reasons=tuple(reasons[row[0]])) for row in late]


async def reworks(session: AsyncSession, day: Period) -> list[Rework]:
    """Every final check failed within the day, with the category and note recorded."""
    rows = await session.execute(
        select(
            WorkOrder.id,
            WorkOrder.number,
            Vehicle.plate,
            Inspection.created_at,
            Inspection.round,
            Inspection.reason_category,
            Inspection.note,
        )
        .join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        .join(Vehicle, Vehicle.id == WorkOrder.vehicle_id)
        .where(
            Inspection.passed.is_(False),
            Inspection.created_at >= day.starts_at,
            Inspection.created_at < day.ends_at,
        )
        .order_by(Inspection.created_at, Inspection.id)
    )
    return [Rework(*row) for row in rows.tuples()]


async def complaints(session: AsyncSession, day: Period) -> list[ComplaintReceived]:
    rows = await session.execute(
        select(
            Complaint.id,
            Complaint.number,
            Complaint.severity,
            Complaint.received_at,
            Complaint.words,
            Vehicle.plate,
        )
        .outerjoin(Vehicle, Vehicle.id == Complaint.vehicle_id)
        .where(Complaint.received_at >= day.starts_at, Complaint.received_at < day.ends_at)
        .order_by(Complaint.received_at, Complaint.id)
    )
    return [
        ComplaintReceived(cid, number, severity, received_at, words, plate or "")
        for cid, number, severity, received_at, words, plate in rows.tuples()
    ]
