"""The records the reminder list is computed from, each read in one batched query for
every car at once (or those matching a condition on Vehicle): the cars that may be
reminded, each car's last delivery and last visit, and the contacts made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Appointment,
    AppointmentStatus,
    CheckIn,
    Customer,
    Delivery,
    Vehicle,
    WorkOrder,
)
from app.models.reminder import ReminderAction, ReminderContact
from app.models.staff import StaffUser

# A booking that still stands keeps the due off the list; a cancelled one brings it back.
STANDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)


@dataclass(frozen=True)
class Car:
    vehicle_id: int
    plate: str
    make: str
    model: str
    inspection_due_on: date | None
    insurance_due_on: date | None
    customer_id: int
    name: str
    phone: str
    email: str
    locale: str


@dataclass(frozen=True)
class LastDelivery:
    delivered_at: datetime
    next_service_on: date | None
    next_service_km: int | None


@dataclass
class Contacts:
    snoozed: set[str] = field(default_factory=set)  # kinds snoozed past today
    handled: list[ReminderContact] = field(default_factory=list)  # booked (standing), elsewhere
    sent: list[ReminderContact] = field(default_factory=list)


async def cars(session: AsyncSession, vehicles: ColumnElement[bool] | None) -> list[Car]:
    """The cars that may be reminded: not sold, their customer not opted out. (Columns, not
    rows: thousands of cars, and no vehicle left in the session half-loaded.)"""
    query = (
        select(
            Vehicle.id, Vehicle.plate, Vehicle.make, Vehicle.model, Vehicle.inspection_due_on,
            Vehicle.insurance_due_on, Customer.id, Customer.name, Customer.phone,
            Customer.email, Customer.locale,
        )
        .join(Customer, Customer.id == Vehicle.customer_id)
        .where(Vehicle.sold_at.is_(None), Customer.reminders_opt_out_at.is_(None))
    )  # fmt: skip
    if vehicles is not None:
        query = query.where(vehicles)
    return [Car(*row) for row in await session.execute(query)]


async def last_deliveries(
    session: AsyncSession, vehicles: ColumnElement[bool] | None
) -> dict[int, LastDelivery]:
    ranked = (
        select(
            WorkOrder.vehicle_id,
            Delivery.delivered_at,
            Delivery.next_service_on,
            Delivery.next_service_km,
            func.row_number()
            .over(
                partition_by=WorkOrder.vehicle_id,
                order_by=(Delivery.delivered_at.desc(), Delivery.id.desc()),
            )
            .label("rank"),
        )
        .join(WorkOrder, WorkOrder.id == Delivery.work_order_id)
        .where(Delivery.delivered_at.is_not(None))
    )
    if vehicles is not None:
        ranked = ranked.join(Vehicle, Vehicle.id == WorkOrder.vehicle_id).where(vehicles)
    sub = ranked.subquery()
    rows = await session.execute(
        select(sub.c.vehicle_id, sub.c.delivered_at, sub.c.next_service_on, sub.c.next_service_km)
        .where(sub.c.rank == 1)
    )  # fmt: skip
    return {v: LastDelivery(at, on, km) for v, at, on, km in rows}


async def last_visits(
    session: AsyncSession, vehicles: ColumnElement[bool] | None
) -> dict[int, tuple[datetime, int | None, str]]:
    """Each car's last arrival, and that visit's advisor (id, name)."""
    ranked = select(
        WorkOrder.vehicle_id,
        CheckIn.arrived_at,
        WorkOrder.advisor_id,
        func.row_number()
        .over(
            partition_by=WorkOrder.vehicle_id,
            order_by=(CheckIn.arrived_at.desc(), CheckIn.id.desc()),
        )
        .label("rank"),
    ).join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
    if vehicles is not None:
        ranked = ranked.join(Vehicle, Vehicle.id == WorkOrder.vehicle_id).where(vehicles)
    sub = ranked.subquery()
    rows = await session.execute(
        select(sub.c.vehicle_id, sub.c.arrived_at, sub.c.advisor_id, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == sub.c.advisor_id)
        .where(sub.c.rank == 1)
    )  # fmt: skip
    return {v: (at, advisor, name or "") for v, at, advisor, name in rows}


async def contacts(
    session: AsyncSession, today: date, vehicles: ColumnElement[bool] | None
) -> dict[int, Contacts]:
    query = (
        select(ReminderContact, Appointment.status)
        .outerjoin(Appointment, Appointment.id == ReminderContact.appointment_id)
        .where(
            ReminderContact.action.in_(
                [
                    ReminderAction.SENT.value,
                    ReminderAction.BOOKED.value,
                    ReminderAction.DONE_ELSEWHERE.value,
                    ReminderAction.NOT_NOW.value,
                ]
            )
        )
        .order_by(ReminderContact.at, ReminderContact.id)
    )
    if vehicles is not None:
        query = query.join(Vehicle, Vehicle.id == ReminderContact.vehicle_id).where(vehicles)
    found: dict[int, Contacts] = {}
    for contact, status in await session.execute(query):
        mine = found.setdefault(contact.vehicle_id, Contacts())
        if contact.action == ReminderAction.NOT_NOW.value:
            if contact.snooze_until is not None and contact.snooze_until > today:
                mine.snoozed.add(contact.kind)
        elif contact.action == ReminderAction.SENT.value:
            mine.sent.append(contact)
        elif contact.action == ReminderAction.DONE_ELSEWHERE.value or status in STANDING:
            mine.handled.append(contact)
    return found
