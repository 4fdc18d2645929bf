"""Arrange helpers for the reminders' tests: cars, visits and deliveries built from the
models directly. Times are Beijing time (the test settings' timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Customer, Delivery, Vehicle, WorkOrder, WorkOrderStatus
from app.models.reminder import ReminderContact

BEIJING = ZoneInfo("Asia/Shanghai")
# The list is read on 2 December 2026 at 10:00, Beijing time.
TODAY = date(2026, 12, 2)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


NOW = at(12, 2)
_numbers = iter(range(1, 1_000_000))


async def a_car(
    db: AsyncSession,
    n: int,
    *,
    locale: str = "zh_CN",
    email: str = "",
    km: int | None = None,
    km_at: datetime | None = None,
    inspection_due_on: date | None = None,
    insurance_due_on: date | None = None,
) -> Vehicle:
    customer = Customer(name=f"车主{n}", phone=f"1390000{n:04d}", email=email, locale=locale)
    vehicle = Vehicle(
        customer=customer,
        plate=f"粤B{n:05d}",
        make="Toyota",
        model="RAV4",
        last_odometer_km=km,
        last_odometer_at=km_at,
        inspection_due_on=inspection_due_on,
        insurance_due_on=insurance_due_on,
    )
    db.add(vehicle)
    await db.flush()
    return vehicle


async def a_visit(
    db: AsyncSession,
    vehicle: Vehicle,
    arrived_at: datetime,
    km: int | None = None,
    *,
    advisor_id: int | None = None,
    next_service_on: date | None = None,
    next_service_km: int | None = None,
    delivered: bool = True,
) -> WorkOrder:
    """A visit: the check-in at `arrived_at` with its odometer reading, delivered the
    same day with the next service date and km when `delivered`."""
    order = WorkOrder(
        number=f"WO-R-{next(_numbers):06d}",
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        advisor_id=advisor_id,
        status=WorkOrderStatus.DELIVERED if delivered else WorkOrderStatus.IN_PROGRESS,
        delivered_at=arrived_at if delivered else None,
    )
    db.add(order)
    await db.flush()
    db.add(
        CheckIn(
            work_order_id=order.id,
            advisor_id=advisor_id,
            arrived_at=arrived_at,
            started_at=arrived_at,
            completed_at=arrived_at,
            odometer_km=km,
        )
    )
    if delivered:
        db.add(
            Delivery(
                work_order_id=order.id,
                advisor_id=advisor_id,
                next_service_on=next_service_on,
                next_service_km=next_service_km,
                delivered_at=arrived_at,
            )
        )
    await db.flush()
    return order


async def a_contact(
    db: AsyncSession,
    vehicle: Vehicle,
    action: str,
    when: datetime,
    *,
    kind: str = "service",
    due_on: date | None = None,
    snooze_until: date | None = None,
) -> ReminderContact:
    contact = ReminderContact(
        vehicle_id=vehicle.id,
        customer_id=vehicle.customer_id,
        kind=kind,
        due_on=due_on,
        action=action,
        channel="sms" if action == "sent" else "",
        snooze_until=snooze_until,
        at=when,
    )
    db.add(contact)
    await db.flush()
    return contact
