"""How far each car runs a day, from its own odometer readings, and so where its odometer
stands today and on which day it reaches a given km (the next service's).

A car's readings are its check-ins' odometer (at arrival) and the vehicle's last reading.
Its pace is the km between its first and last readings over the days between them, when
those are at least MIN_SPAN_DAYS apart and the odometer went up; else the dealership's
km a year spread over 365 days. Days are the dealership's local days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Vehicle, WorkOrder

# Readings closer together than this say little about a car's pace (one trip, one holiday).
MIN_SPAN_DAYS = 28
# A car that would take longer than this to reach a km is not coming (a date that far is
# no reminder, and beyond the calendar for a car that barely moves).
MAX_PROJECTION_DAYS = 20 * 365
DEFAULT_KM_PER_YEAR = 15000


@dataclass(frozen=True)
class Reading:
    on: date  # the local day of the reading
    km: int


@dataclass(frozen=True)
class Projection:
    vehicle_id: int
    km_per_day: float
    from_history: bool  # False: the dealership's km a year, the car's readings could not tell
    last: Reading | None  # None: no reading at all

    def km_on(self, day: date) -> int | None:
        """The odometer projected on `day` (never below the last reading)."""
        if self.last is None:
            return None
        days = max((day - self.last.on).days, 0)
        return self.last.km + round(self.km_per_day * days)

    def reaches(self, km: int) -> date | None:
        """The day the odometer reaches `km` (a day in the past when it already has)."""
        if self.last is None or self.km_per_day <= 0:
            return None
        days = math.ceil((km - self.last.km) / self.km_per_day)
        if abs(days) > MAX_PROJECTION_DAYS:
            return None
        return self.last.on + timedelta(days=days)


def pace(readings: Iterable[Reading], km_per_year: int) -> tuple[float, bool, Reading | None]:
    """(km a day, from the car's own readings?, the last reading)."""
    ordered = sorted(set(readings), key=lambda r: (r.on, r.km))
    default = km_per_year / 365
    if not ordered:
        return default, False, None
    first, last = ordered[0], ordered[-1]
    span = (last.on - first.on).days
    if span >= MIN_SPAN_DAYS and last.km > first.km:
        return (last.km - first.km) / span, True, last
    return default, False, last


async def readings(
    session: AsyncSession, tz: ZoneInfo, vehicles: ColumnElement[bool] | None = None
) -> dict[int, list[Reading]]:
    """Every car's readings (or those matching `vehicles`, a condition on Vehicle), in
    two queries whatever their number."""

    def local(moment: datetime) -> date:
        return moment.astimezone(tz).date()

    found: dict[int, list[Reading]] = {}
    visits = (
        select(WorkOrder.vehicle_id, CheckIn.arrived_at, CheckIn.odometer_km)
        .join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
        .where(CheckIn.odometer_km.is_not(None), CheckIn.completed_at.is_not(None))
    )
    cars = select(Vehicle.id, Vehicle.last_odometer_at, Vehicle.last_odometer_km).where(
        Vehicle.last_odometer_km.is_not(None), Vehicle.last_odometer_at.is_not(None)
    )
    if vehicles is not None:
        visits = visits.join(Vehicle, Vehicle.id == WorkOrder.vehicle_id).where(vehicles)
        cars = cars.where(vehicles)
    for query in (visits, cars):
        for vehicle_id, at, km in await session.execute(query):
            if at is not None and km is not None:
                found.setdefault(vehicle_id, []).append(Reading(local(at), km))
    return found


async def projections(
    session: AsyncSession,
    tz: ZoneInfo,
    km_per_year: int = DEFAULT_KM_PER_YEAR,
    vehicles: ColumnElement[bool] | None = None,
    vehicle_ids: Iterable[int] = (),
) -> dict[int, Projection]:
    """A projection for each car that has readings, plus each of `vehicle_ids` (those
    without any reading get the dealership's pace and no odometer)."""
    by_car = await readings(session, tz, vehicles)
    result: dict[int, Projection] = {}
    for vehicle_id in set(by_car) | set(vehicle_ids):
        km_per_day, own, last = pace(by_car.get(vehicle_id, ()), km_per_year)
        result[vehicle_id] = Projection(vehicle_id, km_per_day, own, last)
    return result


async def for_vehicle(
    session: AsyncSession, tz: ZoneInfo, vehicle_id: int, km_per_year: int = DEFAULT_KM_PER_YEAR
) -> Projection:
    found = await projections(
        session, tz, km_per_year, Vehicle.id == vehicle_id, vehicle_ids=(vehicle_id,)
    )
    return found[vehicle_id]
