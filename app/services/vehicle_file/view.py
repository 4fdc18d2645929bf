"""What the vehicle's file shows, read in a fixed handful of queries whatever the number
of visits (one per kind of record, never one per visit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import (
    CheckIn,
    Complaint,
    DamageMark,
    Delivery,
    FollowUpTask,
    HealthCheck,
    HealthCheckResult,
    Inspection,
    Job,
    JobLine,
    Photo,
    PhotoStage,
    Recommendation,
    ReminderContact,
    Supplement,
    Vehicle,
    WorkOrder,
)
from app.services.health_check import checks
from app.services.records import get_or_404


@dataclass(frozen=True)
class Arrival:
    """What the file needs of a check-in (not the whole record and its children)."""

    id: int
    odometer_km: int | None
    arrived_at: datetime


@dataclass
class Visit:
    order: WorkOrder
    check_in: Arrival | None = None
    photos: list[int] = field(default_factory=list)  # check-in photo ids, first few
    photo_count: int = 0
    amount: Decimal = Decimal(0)  # labour and parts done, before tax
    parts: list[str] = field(default_factory=list)  # parts replaced
    supplements: dict[str, int] = field(default_factory=dict)  # count by status
    marks: int = 0  # damage marked at check-in
    inspections: list[Inspection] = field(default_factory=list)  # QC rounds, first first
    delivery: Delivery | None = None


@dataclass(frozen=True)
class Reading:
    at: datetime
    km: int


@dataclass(frozen=True)
class HealthRow:
    key: str
    label: str
    unit: str | None
    cells: list[HealthCheckResult | None]  # one per check, oldest first


@dataclass
class VehicleFile:
    vehicle: Vehicle
    visits: list[Visit]
    readings: list[Reading]
    health_checks: list[HealthCheck]
    health_rows: list[HealthRow]
    declined: list[Recommendation]
    complaints: list[Complaint]
    follow_ups: list[FollowUpTask]
    reminders: list[ReminderContact]

    @property
    def next_service(self) -> Delivery | None:
        """The last delivery's next service (date and km), as the reminders read it."""
        return next((v.delivery for v in self.visits if v.delivery), None)


PHOTOS_SHOWN = 4


async def load(session: AsyncSession, vehicle_id: int, locale_zh: bool) -> VehicleFile:
    vehicle = await get_or_404(session, Vehicle, vehicle_id, _("That vehicle does not exist."))
    orders = (
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.vehicle_id == vehicle.id)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        )
    ).all()
    visits = {o.id: Visit(o) for o in orders}
    ids = list(visits)
    arrivals = await session.execute(
        select(CheckIn.work_order_id, CheckIn.id, CheckIn.odometer_km, CheckIn.arrived_at).where(
            CheckIn.work_order_id.in_(ids)
        )
    )
    for order_id, check_in_id, km, arrived_at in arrivals.tuples():
        visits[order_id].check_in = Arrival(check_in_id, km, arrived_at)
    by_check_in = {v.check_in.id: v for v in visits.values() if v.check_in}
    photos = await session.execute(
        select(Photo.check_in_id, Photo.id)
        .where(Photo.check_in_id.in_(list(by_check_in)), Photo.stage == PhotoStage.CHECK_IN.value)
        .order_by(Photo.id)
    )
    for check_in_id, photo_id in photos.tuples():
        visit = by_check_in[check_in_id]
        visit.photo_count += 1
        if len(visit.photos) < PHOTOS_SHOWN:
            visit.photos.append(photo_id)
    lines = await session.execute(
        select(Job.work_order_id, JobLine.kind, JobLine.name_zh, JobLine.name_en,
               JobLine.quantity, JobLine.unit_price, Supplement.status)
        .join(JobLine, JobLine.job_id == Job.id)
        .outerjoin(Supplement, Supplement.id == Job.supplement_id)
        .where(Job.work_order_id.in_(ids), Job.declined_at.is_(None))
        .order_by(JobLine.id)
    )  # fmt: skip
    for order_id, kind, name_zh, name_en, quantity, price, supplement_status in lines.tuples():
        if supplement_status not in (None, "approved"):
            continue  # added work the customer did not approve was not done
        visit = visits[order_id]
        visit.amount += quantity * price
        if kind == "part":
            visit.parts.append(name_zh if locale_zh else name_en)
    marks = await session.execute(
        select(DamageMark.check_in_id, func.count(DamageMark.id))
        .where(DamageMark.check_in_id.in_(list(by_check_in)))
        .group_by(DamageMark.check_in_id)
    )
    for check_in_id, n in marks.tuples():
        by_check_in[check_in_id].marks = n
    for inspection in await session.scalars(
        select(Inspection).where(Inspection.work_order_id.in_(ids)).order_by(Inspection.round)
    ):
        visits[inspection.work_order_id].inspections.append(inspection)
    for delivery in await session.scalars(select(Delivery).where(Delivery.work_order_id.in_(ids))):
        visits[delivery.work_order_id].delivery = delivery
    counted = await session.execute(
        select(Supplement.work_order_id, Supplement.status, func.count(Supplement.id))
        .where(Supplement.work_order_id.in_(ids))
        .group_by(Supplement.work_order_id, Supplement.status)
    )
    for order_id, status, n in counted.tuples():
        visits[order_id].supplements[status] = n
    health = list(
        (
            await session.scalars(
                select(HealthCheck)
                .where(HealthCheck.vehicle_id == vehicle.id)
                .order_by(HealthCheck.created_at, HealthCheck.id)
            )
        ).all()
    )
    results = (
        await session.scalars(
            select(HealthCheckResult)
            .where(HealthCheckResult.health_check_id.in_([h.id for h in health]))
            .order_by(HealthCheckResult.position, HealthCheckResult.id)
        )
    ).all()
    declined = (
        await session.scalars(
            select(Recommendation)
            .where(Recommendation.vehicle_id == vehicle.id, Recommendation.declined_at.is_not(None))
            .order_by(Recommendation.declined_at.desc())
        )
    ).all()
    complaints = (
        await session.scalars(
            select(Complaint)
            .where(Complaint.vehicle_id == vehicle.id)
            .order_by(Complaint.received_at.desc())
        )
    ).all()
    follow_ups = (
        await session.scalars(
            select(FollowUpTask)
            .where(FollowUpTask.vehicle_id == vehicle.id)
            .order_by(FollowUpTask.due_at.desc())
        )
    ).all()
    reminders = (
        await session.scalars(
            select(ReminderContact)
            .where(ReminderContact.vehicle_id == vehicle.id)
            .order_by(ReminderContact.at.desc())
            .limit(20)
        )
    ).all()
    return VehicleFile(
        vehicle=vehicle,
        visits=list(visits.values()),
        readings=_readings(list(visits.values())),
        health_checks=health,
        health_rows=_health_rows(health, list(results)),
        declined=list(declined),
        complaints=list(complaints),
        follow_ups=list(follow_ups),
        reminders=list(reminders),
    )


def _readings(visits: list[Visit]) -> list[Reading]:
    found = [
        Reading(v.check_in.arrived_at, v.check_in.odometer_km)
        for v in visits
        if v.check_in is not None and v.check_in.odometer_km is not None
    ]
    return sorted(found, key=lambda r: r.at)


def _health_rows(health: list[HealthCheck], results: list[HealthCheckResult]) -> list[HealthRow]:
    """Items as rows, checks as columns (oldest first), so a falling tread shows."""
    column = {h.id: i for i, h in enumerate(health)}
    rows: dict[str, list[HealthCheckResult | None]] = {}
    first: dict[str, HealthCheckResult] = {}
    for r in results:
        rows.setdefault(r.key, [None] * len(health))[column[r.health_check_id]] = r
        first.setdefault(r.key, r)
    grouped = checks.grouped(list(first.values()))
    return [
        HealthRow(r.key, checks.label(r), r.unit, rows[r.key])
        for g in grouped
        for r in g.results
        if any(c is not None and c.colour != "not_checked" for c in rows[r.key])
    ]


@dataclass(frozen=True)
class Chart:
    """The odometer over time as an SVG polyline (server-drawn: no script needed)."""

    width: int
    height: int
    points: list[tuple[float, float, Reading]]
    max_km: int


def chart(readings: list[Reading], width: int = 640, height: int = 200) -> Chart | None:
    if len(readings) < 2:
        return None
    pad = 24
    start, end = readings[0].at.timestamp(), readings[-1].at.timestamp()
    span = max(end - start, 1.0)
    top = max(r.km for r in readings) or 1
    points = [
        (
            round(pad + (r.at.timestamp() - start) / span * (width - 2 * pad), 1),
            round(height - pad - r.km / top * (height - 2 * pad), 1),
            r,
        )
        for r in readings
    ]
    return Chart(width, height, points, top)
