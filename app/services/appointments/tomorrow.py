"""The day before (预约后的准备): a day's standing bookings, each with its pre-filled work
order priced at today's catalogue, the parts to reserve summed over the day against the
stock on the shelf (a part to order flags its bookings), and the day's bay/technician load.
Reads only: looking at the list changes nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Appointment, AppointmentStatus, Dealership, LineKind, Part
from app.services.appointments import messages
from app.services.appointments.prefill import PricedJob, price
from app.services.estimate.editing import part_expected_on
from app.services.estimate.pricing import compute_totals
from app.services.workshop.promised_time import technician_count

STANDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


@dataclass
class PartNeed:
    """One part the day's bookings need, against the shelf."""

    part: Part
    quantity: Decimal  # over the whole day
    appointment_ids: list[int] = field(default_factory=list)
    expected_on: date | None = None  # when an order placed today arrives; None: in stock

    @property
    def on_hand(self) -> int:
        return self.part.stock_on_hand

    @property
    def to_order(self) -> Decimal:
        return max(self.quantity - self.on_hand, Decimal("0"))

    @property
    def must_order(self) -> bool:
        return self.to_order > 0


@dataclass
class PreparedBooking:
    appointment: Appointment
    jobs: list[PricedJob]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    hours: Decimal  # flat-rate labour hours of the priced jobs
    bring: list[str]  # BRING_ITEMS keys
    parts_to_order: list[PartNeed] = field(default_factory=list)

    @property
    def must_order(self) -> bool:
        return bool(self.parts_to_order)


@dataclass
class AdvisorLoad:
    name: str
    bookings: int
    capacity: int


@dataclass
class Tomorrow:
    day: date
    today: date
    bookings: list[PreparedBooking]
    parts: list[PartNeed]
    advisors: list[AdvisorLoad]
    technicians: int
    booked_hours: Decimal  # the bookings' share of the workshop's day
    capacity_hours: Decimal  # technicians × hours each sells a day

    @property
    def load_per_cent(self) -> int | None:
        if not self.capacity_hours:
            return None
        return round(self.booked_hours * 100 / self.capacity_hours)

    @property
    def overfilled(self) -> bool:
        return self.booked_hours > self.capacity_hours

    @property
    def flagged(self) -> int:
        return sum(1 for b in self.bookings if b.must_order)


def default_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date() + timedelta(days=1)


async def bookings_on(session: AsyncSession, day: date, tz: ZoneInfo) -> list[Appointment]:
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = start + timedelta(days=1)
    return list(
        (
            await session.scalars(
                select(Appointment)
                .where(Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
                .where(Appointment.status.in_(STANDING))
                .order_by(Appointment.scheduled_at, Appointment.id)
            )
        ).all()
    )


async def load(
    session: AsyncSession, shop: Dealership, day: date, tz: ZoneInfo, now: datetime, locale: str
) -> Tomorrow:
    """`day`'s standing bookings, prepared as of `now` (today's prices and stock)."""
    today = now.astimezone(tz).date()
    prepared = []
    for appointment in await bookings_on(session, day, tz):
        jobs = await price(session, appointment, today, locale)
        totals = compute_totals([j.job for j in jobs], Decimal("0"), shop.tax_rate)
        prepared.append(
            PreparedBooking(
                appointment=appointment,
                jobs=jobs,
                subtotal=totals.subtotal,
                tax=totals.tax,
                total=totals.total,
                hours=totals.hours,
                bring=messages.bring_keys(appointment),
            )
        )
    needs: dict[int, PartNeed] = {}
    for booking in prepared:
        for entry in booking.jobs:
            for line in entry.job.lines:
                if line.kind != LineKind.PART or line.part_id is None:
                    continue
                if line.part_id not in needs:
                    part = await session.get(Part, line.part_id)
                    if part is None:
                        continue
                    needs[line.part_id] = PartNeed(part=part, quantity=Decimal("0"))
                need = needs[line.part_id]
                need.quantity += line.quantity
                if booking.appointment.id not in need.appointment_ids:
                    need.appointment_ids.append(booking.appointment.id)
    for need in needs.values():
        need.expected_on = part_expected_on(need.part, need.quantity, today)
    for booking in prepared:
        booking.parts_to_order = [
            n
            for n in needs.values()
            if n.must_order and booking.appointment.id in n.appointment_ids
        ]
    per_advisor = Counter(
        (b.appointment.advisor.display_name if b.appointment.advisor else "") for b in prepared
    )
    technicians = await technician_count(session)
    return Tomorrow(
        day=day,
        today=today,
        bookings=prepared,
        parts=sorted(needs.values(), key=lambda n: (not n.must_order, n.part.number)),
        advisors=[
            AdvisorLoad(name, count, shop.advisor_daily_capacity)
            for name, count in sorted(per_advisor.items())
        ],
        technicians=technicians,
        booked_hours=sum((b.appointment.labour_hours or b.hours for b in prepared), Decimal("0")),
        capacity_hours=Decimal(technicians) * shop.technician_hours_per_day,
    )
