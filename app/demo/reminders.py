"""A few cars due for a reminder in the demo (客户关怀), made from the models: a service
overdue, one due by km this week, one due this month, an annual inspection, an insurance
expiry (an English-speaking customer with an e-mail address), and a customer who opted
out (not on the list). Their own customers, so no other demo screen changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Customer, Delivery, StaffUser, Vehicle, WorkOrder, WorkOrderStatus
from app.models.reminder import ReminderAction, ReminderContact, ReminderKind
from app.services.vin import with_check_digit

MARK = "-R"  # in the order number: this module's orders (and whether it ran)


@dataclass(frozen=True)
class Car:
    name: str
    phone: str
    plate: str
    vin: str  # without its check digit (the ninth character, "0" here)
    make: str
    model: str
    km_per_day: int
    # Days ago of the last visit, and the next service it set: in days from today and km
    # beyond the last reading (None: not recorded).
    visited_days_ago: int = 150
    next_in_days: int | None = None
    next_km: int | None = None
    inspection_in_days: int | None = None
    insurance_in_days: int | None = None
    locale: str = "zh_CN"
    email: str = ""
    opted_out: str = ""  # the reason, for a customer who asked for no more reminders


CARS = (
    Car("周建国", "13902881001", "粤BR3K21", "LVGBE46K0MR310001", "Toyota", "Camry",
        45, 190, -6, 10_000),
    Car("林晓燕", "13902881002", "粤BR7M05", "LHGRW5860NR310002", "Honda", "CR-V",
        60, 120, 200, 7_500),
    Car("黄志强", "13902881003", "粤BR2D88", "LSVAB2180MR310003", "Volkswagen", "Lavida",
        30, 160, 20, 10_000),
    Car("陈美玲", "13902881004", "粤BR9P16", "LGBH52E00LR310004", "Nissan", "Sylphy",
        35, 300, inspection_in_days=12),
    Car("David Li", "13902881005", "粤BR5E40", "LGXCE4CB0NR310005", "BYD", "Han",
        40, 250, insurance_in_days=3, locale="en", email="david.li@example.com"),
    Car("吴国华", "13902881006", "粤BR1T73", "LSGJA52U0LR310006", "Buick", "Excelle",
        40, 200, -10, 10_000, opted_out="车已转给家人使用，由家人自行保养"),
)  # fmt: skip


async def seed(session: AsyncSession, tz: ZoneInfo, now: datetime) -> int:
    """The cars, once (safe to run again); returns how many were added."""
    if await session.scalar(select(WorkOrder.id).where(WorkOrder.number.contains(MARK))):
        return 0
    advisor = await session.scalar(select(StaffUser.id).where(StaffUser.username == "advisor"))
    today = now.astimezone(tz).date()
    for n, car in enumerate(CARS, start=1):
        await _car(session, tz, today, n, car, advisor, now)
    await session.flush()
    return len(CARS)


def _at(day: date, tz: ZoneInfo, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz)


async def _car(
    session: AsyncSession,
    tz: ZoneInfo,
    today: date,
    n: int,
    car: Car,
    advisor: int | None,
    now: datetime,
) -> None:
    customer = Customer(name=car.name, phone=car.phone, email=car.email, locale=car.locale)
    visited = today - timedelta(days=car.visited_days_ago)
    last_km = 20_000 + 3_000 * n
    vehicle = Vehicle(
        customer=customer, plate=car.plate, vin=with_check_digit(car.vin), make=car.make,
        model=car.model,
        last_odometer_km=last_km, last_odometer_at=_at(visited, tz, 15),
        inspection_due_on=(
            today + timedelta(days=car.inspection_in_days)
            if car.inspection_in_days is not None else None
        ),
        insurance_due_on=(
            today + timedelta(days=car.insurance_in_days)
            if car.insurance_in_days is not None else None
        ),
    )  # fmt: skip
    session.add(vehicle)
    await session.flush()
    # Two visits 120 days apart: the car's own pace for the projection.
    earlier = visited - timedelta(days=120)
    for number, (day, km, last) in enumerate(
        ((earlier, last_km - 120 * car.km_per_day, False), (visited, last_km, True)), start=1
    ):
        arrived = _at(day, tz, 9)
        order = WorkOrder(
            number=f"WO{day:%Y%m%d}{MARK}{n:02d}{number}", status=WorkOrderStatus.DELIVERED,
            customer_id=vehicle.customer_id, vehicle_id=vehicle.id, advisor_id=advisor,
            created_at=arrived, delivered_at=arrived + timedelta(hours=6),
        )  # fmt: skip
        session.add(order)
        await session.flush()
        session.add(CheckIn(
            work_order_id=order.id, advisor_id=advisor, arrived_at=arrived, started_at=arrived,
            completed_at=arrived + timedelta(minutes=20), odometer_km=km,
        ))  # fmt: skip
        session.add(Delivery(
            work_order_id=order.id, advisor_id=advisor, delivered_at=order.delivered_at,
            next_service_on=(
                today + timedelta(days=car.next_in_days)
                if last and car.next_in_days is not None else None
            ),
            next_service_km=last_km + car.next_km if last and car.next_km else None,
            advice="建议按时保养" if last else "",
        ))  # fmt: skip
    if car.opted_out:
        customer.reminders_opt_out_at = now - timedelta(days=20)
        customer.reminders_opt_out_reason = car.opted_out
        session.add(ReminderContact(
            vehicle_id=vehicle.id, customer_id=vehicle.customer_id,
            kind=ReminderKind.SERVICE.value, action=ReminderAction.OPT_OUT.value,
            reason=car.opted_out, at=customer.reminders_opt_out_at, by_id=advisor,
        ))  # fmt: skip
