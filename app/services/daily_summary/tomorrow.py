"""Tomorrow's preparation (预约后的准备): the appointments booked for the next day and the
parts to reserve for them, from the orders already written for those appointments
(pre-filled the day before) or, where none is, the work the customer asked for."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import get_locale
from app.models import Appointment, AppointmentStatus, Job, JobLine, LineKind, Part, WorkOrder
from app.services.reports.period import Period


@dataclass
class Booking:
    appointment_id: int
    scheduled_at: datetime
    customer: str
    plate: str
    advisor: str
    requested_work: str
    parts: list[str] = field(default_factory=list)  # "机油滤清器 ×1" on its pre-filled order


@dataclass(frozen=True)
class PartToReserve:
    code: str
    name: str
    quantity: Decimal
    stock: int | None  # on hand in the catalogue; None for a part not in it

    @property
    def short(self) -> bool:
        return self.stock is not None and self.quantity > self.stock


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


async def bookings(session: AsyncSession, day: Period) -> tuple[list[Booking], list[PartToReserve]]:
    """The day's booked appointments in time order, and the parts their orders list,
    one row per part with the quantity summed and what the store holds."""
    found = (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.scheduled_at >= day.starts_at,
                Appointment.scheduled_at < day.ends_at,
                Appointment.status == AppointmentStatus.BOOKED,
            )
            .order_by(Appointment.scheduled_at, Appointment.id)
        )
    ).all()
    result = {
        a.id: Booking(
            a.id,
            a.scheduled_at,
            a.customer.name,
            a.vehicle.plate,
            a.advisor.display_name if a.advisor else "",
            a.requested_work,
        )
        for a in found
    }
    if not result:
        return [], []
    lines = await session.execute(
        select(WorkOrder.appointment_id, JobLine, Part.stock_on_hand)
        .join(Job, Job.work_order_id == WorkOrder.id)
        .join(JobLine, JobLine.job_id == Job.id)
        .outerjoin(Part, Part.id == JobLine.part_id)
        .where(
            WorkOrder.appointment_id.in_(list(result)),
            Job.declined_at.is_(None),
            JobLine.kind == LineKind.PART.value,
        )
        .order_by(JobLine.id)
    )
    english = get_locale() == "en"
    needed: dict[str, Decimal] = defaultdict(Decimal)
    names: dict[str, str] = {}
    stock: dict[str, int | None] = {}
    for appointment_id, line, on_hand in lines.tuples():
        if appointment_id is None:  # not possible: the query picks the appointments' orders
            continue
        name = line.name_en if english and line.name_en else line.name_zh
        result[appointment_id].parts.append(f"{name} ×{_quantity(line.quantity)}")
        needed[line.code] += line.quantity
        names.setdefault(line.code, name)
        stock.setdefault(line.code, on_hand)
    parts = [
        PartToReserve(code, names[code], quantity, stock[code])
        for code, quantity in sorted(needed.items())
    ]
    return list(result.values()), parts
