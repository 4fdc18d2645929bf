"""The coming week's bookings (预约), made through the real booking service so the calendar,
tomorrow's list and the lane board have something to show: six working days from tomorrow,
menu packages at each car's mileage, the customer's own words, declined work offered again,
a battery that must be ordered (tomorrow's list flags it), and one booking moved and one
cancelled, so their history shows. Idempotent: nothing is booked once the week holds any."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.models import (
    Appointment,
    AppointmentChannel,
    AppointmentJobSource,
    LabourOperation,
    MenuPackage,
    Part,
    Recommendation,
    StaffUser,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services.appointments import booking
from app.services.appointments.estimate import JobInput
from app.services.audit import Actor
from app.services.estimate.menus import due_packages
from app.settings import Settings

DAYS = 6  # working days (Monday to Saturday) from tomorrow
# Local slot times of a day's bookings; a day takes the first `per_day` of them.
TIMES = ("09:00", "09:30", "10:00", "10:30", "11:00", "13:30", "14:00", "14:30", "15:00", "15:30")
PER_DAY = (8, 7, 6, 7, 6, 6)
CONCERNS = (
    ("刹车有异响", ["braking", "squeal"]),
    ("空调不凉", ["after warming up"]),
    ("冷车启动抖动", ["cold start", "judder"]),
    ("发动机故障灯亮", ["warning light", "light on the dash"]),
)
BRING: tuple[list[str], ...] = (
    ["service_book"],
    ["service_book", "key"],
    [],
    ["service_book", "wheel_lock_key"],
)
NOTES = ("", "客户在休息室等", "需要代步车", "")


def working_days(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() != 6:  # the workshop rests on Sunday
            days.append(day)
        day += timedelta(days=1)
    return days


def _concern(rng: random.Random) -> JobInput:
    words, chips = rng.choice(CONCERNS)
    return JobInput(
        AppointmentJobSource.CONCERN.value,
        words,
        customer_words=json.dumps({"words": words, "chips": chips}, ensure_ascii=False),
    )


async def week(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Book the coming week; the number booked (0 when it was booked before)."""
    tz: ZoneInfo = settings.tz
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    days = working_days(tomorrow, DAYS)
    starts = datetime.combine(days[0], time.min, tzinfo=tz).astimezone(UTC)
    ends = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    if await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.scheduled_at >= starts, Appointment.scheduled_at < ends
        )
    ):
        return 0
    advisor = await session.scalar(select(StaffUser).where(StaffUser.username == "advisor"))
    if advisor is None:
        return 0
    actor = Actor(advisor.id, roles=frozenset({"advisor"}))
    rng = random.Random(days[0].toordinal())  # noqa: S311 - reproducible demo data
    on_site = set(
        (
            await session.scalars(
                select(WorkOrder.vehicle_id).where(WorkOrder.status != WorkOrderStatus.DELIVERED)
            )
        ).all()
    )
    vehicles = [
        v
        for v in (await session.scalars(select(Vehicle).order_by(Vehicle.id))).all()
        if v.id not in on_site
    ]
    packages = list((await session.scalars(select(MenuPackage))).all())
    declined = {
        r.vehicle_id: r
        for r in (
            await session.scalars(
                select(Recommendation)
                .where(Recommendation.declined_at.is_not(None))
                .order_by(Recommendation.id)
            )
        ).all()
    }
    battery = await session.scalar(select(Part).where(Part.number == "P-BATT"))
    fitting = await session.scalar(select(LabourOperation).where(LabourOperation.code == "L-BATT"))
    rng.shuffle(vehicles)
    # The cars that declined work last time come first: each day offers one of them again.
    vehicles.sort(key=lambda v: v.id not in declined)
    queue = list(vehicles)
    booked: list[Appointment] = []
    for n, day in enumerate(days):
        declined_today = False
        for slot, clock in enumerate(TIMES[: PER_DAY[n % len(PER_DAY)]]):
            if not queue:
                queue = list(vehicles)
            vehicle = queue.pop(0)
            jobs: list[JobInput] = []
            if vehicle.id in declined and not declined_today:
                rec = declined[vehicle.id]
                jobs.append(
                    JobInput(
                        AppointmentJobSource.DECLINED.value, rec.text, recommendation_id=rec.id
                    )
                )
                declined_today = True
            due = due_packages(packages, vehicle.last_odometer_km)
            small = min(packages, key=lambda p: p.interval_km) if packages else None
            package = due[0] if due else small if slot % 2 == 0 else None
            if package is not None:
                name = package.name_zh
                jobs.append(
                    JobInput(AppointmentJobSource.MENU.value, name, menu_package_id=package.id)
                )
            if not jobs or slot % 3 == 1:
                jobs.append(_concern(rng))
            if n == 0 and slot == 2 and battery is not None and fitting is not None:
                # A battery out of stock: tomorrow's list says to order it.
                jobs = [
                    JobInput(
                        AppointmentJobSource.MANUAL.value,
                        "更换蓄电池",
                        lines=[
                            ("labour", fitting.id, Decimal("1")),
                            ("part", battery.id, Decimal("1")),
                        ],
                    )
                ]
            data = booking.BookingInput(
                vehicle_id=vehicle.id,
                advisor_id=advisor.id,
                starts_at=f"{day.isoformat()}T{clock}",
                channel=(AppointmentChannel.PHONE if slot % 4 else AppointmentChannel.DESK).value,
                jobs=jobs,
                bring=BRING[slot % len(BRING)],
                notes=NOTES[slot % len(NOTES)],
            )
            try:
                booked.append(await booking.book(session, settings, data, actor, now))
            except (InvalidInput, Conflict):
                continue  # the workshop's day is full: the demo books what fits
    await _move_and_cancel(session, settings, booked, days, actor, now)
    return len(booked)


async def _move_and_cancel(
    session: AsyncSession,
    settings: Settings,
    booked: list[Appointment],
    days: list[date],
    actor: Actor,
    now: datetime,
) -> None:
    """The second day's first booking moved to the afternoon, its last cancelled."""
    second = [a for a in booked if a.scheduled_at.astimezone(settings.tz).date() == days[1]]
    if len(second) < 2:
        return
    first, last = second[0], second[-1]
    try:
        await booking.move(
            session, settings, first.id, first.version, f"{days[1].isoformat()}T16:00", None,
            "客户改到下午", actor, now,
        )  # fmt: skip
        await booking.cancel(
            session, last.id, last.version, "客户出差，改日再约", actor, now, settings=settings
        )
    except (InvalidInput, Conflict):
        return
