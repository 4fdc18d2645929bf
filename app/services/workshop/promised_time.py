"""The promised delivery time (交车时间), proposed from the workshop's load.

The workshop sells `technician_hours_per_day` hours per technician over its
opening hours. Hours already booked (signed orders not yet finished) are
ahead in the queue; this order's hours follow; then the final check and the
wash. The proposal never falls outside opening hours, and never before a
part that has to be ordered arrives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Dealership,
    Job,
    JobLine,
    LineKind,
    Role,
    StaffRole,
    StaffUser,
    WorkOrder,
    WorkOrderStatus,
)

# Orders whose remaining hours are ahead of a new order in the workshop.
QUEUED_STATUSES = (WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS)
ROUND_MINUTES = 15


@dataclass(frozen=True)
class Load:
    technicians: int
    available_hours: Decimal  # the workshop's sellable hours a day
    booked_hours: Decimal  # already queued
    order_hours: Decimal  # this order


@dataclass(frozen=True)
class Proposal:
    promised_at: datetime  # aware, UTC
    load: Load
    parts_on: date | None  # when the last part to order arrives


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _round_up(moment: datetime) -> datetime:
    stamp = moment.timestamp()
    step = ROUND_MINUTES * 60
    return datetime.fromtimestamp(math.ceil(stamp / step) * step, tz=moment.tzinfo)


def schedule(
    now: datetime,
    shop: Dealership,
    load: Load,
    tz: ZoneInfo,
    parts_on: date | None = None,
) -> datetime:
    """When the order's work finishes, in opening hours, plus the handover."""
    opens, closes = _clock(shop.workshop_opens), _clock(shop.workshop_closes)
    local = now.astimezone(tz)
    if parts_on is not None and parts_on > local.date():
        local = datetime.combine(parts_on, opens, tzinfo=tz)
    day_hours = (
        datetime.combine(local.date(), closes) - datetime.combine(local.date(), opens)
    ).total_seconds() / 3600
    # Workshop hours per clock hour: every technician, at their sellable share.
    rate = max(load.technicians, 1) * float(shop.technician_hours_per_day) / max(day_hours, 1)
    remaining = float(load.booked_hours + load.order_hours) / rate * 3600
    remaining += shop.handover_minutes * 60
    return _round_up(after_opening_seconds(local, remaining, shop, tz)).astimezone(ZoneInfo("UTC"))


def after_opening_seconds(
    start: datetime, seconds: float, shop: Dealership, tz: ZoneInfo
) -> datetime:
    """The moment `seconds` of opening hours after `start` have passed (aware, in `tz`);
    the time between closing and the next opening does not count."""
    opens, closes = _clock(shop.workshop_opens), _clock(shop.workshop_closes)
    remaining = seconds
    cursor = start.astimezone(tz)
    while True:
        begin = max(cursor, datetime.combine(cursor.date(), opens, tzinfo=tz))
        end = datetime.combine(cursor.date(), closes, tzinfo=tz)
        if begin < end:
            available = (end - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
        cursor = datetime.combine(cursor.date() + timedelta(days=1), opens, tzinfo=tz)


def opening_day_seconds(shop: Dealership) -> float:
    """The length of one opening day, in seconds."""
    day = date(2000, 1, 3)
    opens, closes = _clock(shop.workshop_opens), _clock(shop.workshop_closes)
    return max((datetime.combine(day, closes) - datetime.combine(day, opens)).total_seconds(), 60)


def opening_seconds_between(
    start: datetime, end: datetime, shop: Dealership, tz: ZoneInfo
) -> float:
    """How many seconds of opening hours lie between `start` and `end`."""
    opens, closes = _clock(shop.workshop_opens), _clock(shop.workshop_closes)
    total = 0.0
    cursor, stop = start.astimezone(tz), end.astimezone(tz)
    while cursor < stop:
        begin = max(cursor, datetime.combine(cursor.date(), opens, tzinfo=tz))
        close = min(stop, datetime.combine(cursor.date(), closes, tzinfo=tz))
        if begin < close:
            total += (close - begin).total_seconds()
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time(0), tzinfo=tz)
    return total


async def technician_count(session: AsyncSession) -> int:
    """The active technicians: the workshop sells `technician_hours_per_day` of each."""
    technicians = await session.scalar(
        select(func.count(func.distinct(StaffUser.id)))
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == Role.TECHNICIAN, StaffUser.is_active.is_(True))
    )
    return int(technicians or 0)


async def workshop_load(session: AsyncSession, shop: Dealership, order_hours: Decimal) -> Load:
    technicians = await technician_count(session)
    booked = await session.scalar(
        select(func.coalesce(func.sum(JobLine.quantity), 0))
        .join(Job, Job.id == JobLine.job_id)
        .join(WorkOrder, WorkOrder.id == Job.work_order_id)
        .where(
            WorkOrder.status.in_(QUEUED_STATUSES),
            JobLine.kind == LineKind.LABOUR.value,
            Job.declined_at.is_(None),
        )
    )
    count = technicians
    return Load(
        technicians=count,
        available_hours=Decimal(count) * shop.technician_hours_per_day,
        booked_hours=Decimal(booked or 0),
        order_hours=order_hours,
    )


async def propose(
    session: AsyncSession,
    shop: Dealership,
    jobs: list[Job],
    now: datetime,
    tz: ZoneInfo,
) -> Proposal:
    to_do = [j for j in jobs if j.declined_at is None]
    hours = sum(
        (ln.quantity for j in to_do for ln in j.lines if ln.kind == LineKind.LABOUR),
        Decimal("0"),
    )
    waits = [ln.expected_on for j in to_do for ln in j.lines if ln.expected_on is not None]
    parts_on = max(waits) if waits else None
    load = await workshop_load(session, shop, hours)
    return Proposal(schedule(now, shop, load, tz, parts_on), load, parts_on)
