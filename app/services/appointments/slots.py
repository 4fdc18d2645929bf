"""The dealership's slots: opening hours cut into `appointment_slot_minutes`, one car per
advisor a slot and at most `advisor_daily_capacity` a day, and the workshop's day (active
technicians × `technician_hours_per_day`, the hours the promised time is computed from)
never overfilled by the bookings' labour hours."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Appointment, AppointmentStatus, Dealership, Role, StaffRole, StaffUser
from app.services import dealership as dealership_service
from app.services.workshop import promised_time
from app.settings import Settings

# A booking in these states counts on its day (the advisor's cars, the workshop's hours);
# the first two also hold their slot.
COUNTED = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
LOOK_AHEAD_DAYS = 60


@dataclass(frozen=True)
class Slot:
    advisor_id: int
    advisor_name: str
    starts_at: datetime  # aware, UTC


@dataclass(frozen=True)
class Rules:
    """The dealership's numbers for the calendar (defaults when none is set up)."""

    opens: time
    closes: time
    slot_minutes: int
    capacity: int  # cars per advisor and day
    technician_hours: Decimal  # sellable hours per technician and day

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)


def _clock(raw: str | None, fallback: time) -> time:
    try:
        return time.fromisoformat(raw or "")
    except ValueError:
        return fallback


def rules_of(shop: Dealership | None) -> Rules:
    if shop is None:
        return Rules(time(8, 30), time(18, 0), 30, 15, Decimal("7"))
    return Rules(
        opens=_clock(shop.workshop_opens, time(8, 30)),
        closes=_clock(shop.workshop_closes, time(18, 0)),
        slot_minutes=max(shop.appointment_slot_minutes or 30, 5),
        capacity=shop.advisor_daily_capacity,
        technician_hours=shop.technician_hours_per_day,
    )


def slot_starts(day: date, tz: ZoneInfo, rules: Rules) -> list[datetime]:
    """Every slot start of a day (UTC), the first at opening, the last ending by closing."""
    cursor = datetime.combine(day, rules.opens, tzinfo=tz)
    closes = datetime.combine(day, rules.closes, tzinfo=tz)
    starts = []
    while cursor + rules.slot <= closes:
        starts.append(cursor.astimezone(UTC))
        cursor += rules.slot
    return starts


def on_grid(local: datetime, rules: Rules) -> bool:
    """Whether a local time is a slot start (opening + a whole number of slots)."""
    minutes = (local.hour * 60 + local.minute) - (rules.opens.hour * 60 + rules.opens.minute)
    return local.second == 0 and local.microsecond == 0 and minutes % rules.slot_minutes == 0


def in_hours(local: datetime, rules: Rules) -> bool:
    """Whether a visit starting at this local time ends by closing."""
    start = local.replace(tzinfo=None)
    opens = datetime.combine(start.date(), rules.opens)
    closes = datetime.combine(start.date(), rules.closes)
    return opens <= start and start + rules.slot <= closes


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


async def advisors(session: AsyncSession, advisor_id: int | None = None) -> list[StaffUser]:
    """The active advisors (one, when `advisor_id` is given), by name."""
    query = (
        select(StaffUser)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == Role.ADVISOR, StaffUser.is_active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.id)
        .distinct()
    )
    if advisor_id is not None:
        query = query.where(StaffUser.id == advisor_id)
    return list((await session.scalars(query)).all())


async def workshop_hours(session: AsyncSession, shop: Dealership | None) -> Decimal | None:
    """The workshop's sellable hours a day: the promised time's figure. None while no
    technician is on the staff (nothing to measure the day against: not a limit)."""
    if shop is None:
        technicians = await session.scalar(
            select(func.count(func.distinct(StaffUser.id)))
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(StaffRole.role == Role.TECHNICIAN, StaffUser.is_active.is_(True))
        )
        return Decimal(technicians) * rules_of(None).technician_hours if technicians else None
    load = await promised_time.workshop_load(session, shop, Decimal("0"))
    return load.available_hours if load.technicians else None


@dataclass
class Booked:
    """What stands in a window of days: per advisor and local day the cars, the slots
    taken, and per day the workshop's booked hours."""

    cars: Counter[tuple[int, date]] = field(default_factory=Counter)
    taken: set[tuple[int, datetime]] = field(default_factory=set)
    hours: dict[date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


async def booked_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    rules: Rules,
    *,
    leave_out: int | None = None,
) -> Booked:
    """The bookings between two UTC times (`leave_out`: the one being moved)."""
    query = select(
        Appointment.id,
        Appointment.advisor_id,
        Appointment.scheduled_at,
        Appointment.labour_hours,
        Appointment.status,
    ).where(
        Appointment.status.in_(COUNTED),
        Appointment.scheduled_at >= start,
        Appointment.scheduled_at < end,
    )
    if leave_out is not None:
        query = query.where(Appointment.id != leave_out)
    found = Booked()
    opens_minutes = rules.opens.hour * 60 + rules.opens.minute
    for _id, advisor_id, at, hours, status in (await session.execute(query)).all():
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        local = moment.astimezone(tz)
        found.hours[local.date()] += hours or Decimal("0")
        if advisor_id is None:
            continue
        found.cars[(advisor_id, local.date())] += 1
        if status in HOLDING:
            # A booking off the grid (typed in by hand long ago) holds the slot it falls in.
            minutes = local.hour * 60 + local.minute - opens_minutes
            start_minutes = opens_minutes + (minutes // rules.slot_minutes) * rules.slot_minutes
            slot = datetime.combine(local.date(), time(0), tzinfo=tz) + timedelta(
                minutes=start_minutes
            )
            found.taken.add((advisor_id, slot.astimezone(UTC)))
    return found


async def free_slots(
    session: AsyncSession,
    settings: Settings,
    *,
    after: datetime,
    advisor_id: int | None,
    labour_hours: Decimal,
    now: datetime,
    count: int = 2,
    leave_out: int | None = None,
) -> list[Slot]:
    """The next `count` free slots at or after `after` (never in the past): the advisor (or
    any advisor, earliest time first) has the slot free and room that day, and the
    workshop's day takes `labour_hours` more. Looks `LOOK_AHEAD_DAYS` ahead."""
    tz = settings.tz
    shop = await dealership_service.current(session)
    rules = rules_of(shop)
    people = await advisors(session, advisor_id)
    if not people or count <= 0:
        return []
    capacity_hours = await workshop_hours(session, shop)
    earliest = max(after, now)
    first_day = earliest.astimezone(tz).date()
    window_start, _end = local_day_bounds(first_day, tz)
    _start, window_end = local_day_bounds(first_day + timedelta(days=LOOK_AHEAD_DAYS - 1), tz)
    booked = await booked_between(session, window_start, window_end, tz, rules, leave_out=leave_out)
    found: list[Slot] = []
    for offset in range(LOOK_AHEAD_DAYS):
        day = first_day + timedelta(days=offset)
        if capacity_hours is not None and booked.hours[day] + labour_hours > capacity_hours:
            continue
        for starts_at in slot_starts(day, tz, rules):
            if starts_at < earliest or starts_at <= now:
                continue
            for person in people:
                if booked.cars[(person.id, day)] >= rules.capacity:
                    continue
                if (person.id, starts_at) in booked.taken:
                    continue
                found.append(Slot(person.id, person.display_name, starts_at))
                if len(found) >= count:
                    return found
    return found


# -- the calendar ---------------------------------------------------------------


@dataclass(frozen=True)
class SlotCell:
    starts_at: datetime  # aware, UTC
    appointment: Appointment | None
    past: bool


@dataclass(frozen=True)
class AdvisorDay:
    advisor_id: int
    name: str
    booked: int
    capacity: int
    cells: list[SlotCell]


@dataclass(frozen=True)
class DayGrid:
    day: date
    advisors: list[AdvisorDay]
    workshop_booked_hours: Decimal
    workshop_capacity_hours: Decimal  # 0 while no technician is on the staff
    no_shows: int
    cancelled: int


async def _grid(
    session: AsyncSession,
    tz: ZoneInfo,
    day: date,
    now: datetime,
    rules: Rules,
    people: list[StaffUser],
    capacity_hours: Decimal | None,
) -> DayGrid:
    start, end = local_day_bounds(day, tz)
    rows = list(
        (
            await session.scalars(
                select(Appointment)
                .where(Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
                .order_by(Appointment.scheduled_at, Appointment.id)
            )
        ).unique()
    )
    states = Counter(a.status for a in rows)
    counted = [a for a in rows if a.status in COUNTED]
    starts = slot_starts(day, tz, rules)
    lanes = []
    for person in people:
        mine = [a for a in counted if a.advisor_id == person.id]
        cells = []
        for starts_at in starts:
            ends_at = starts_at + rules.slot
            held = next((a for a in mine if starts_at <= _utc(a.scheduled_at) < ends_at), None)
            cells.append(SlotCell(starts_at, held, starts_at <= now))
        lanes.append(AdvisorDay(person.id, person.display_name, len(mine), rules.capacity, cells))
    return DayGrid(
        day=day,
        advisors=lanes,
        workshop_booked_hours=sum((a.labour_hours or Decimal("0") for a in counted), Decimal("0")),
        workshop_capacity_hours=capacity_hours or Decimal("0"),
        no_shows=states[AppointmentStatus.NO_SHOW],
        cancelled=states[AppointmentStatus.CANCELLED],
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def day_grid(session: AsyncSession, settings: Settings, day: date, now: datetime) -> DayGrid:
    """One day's calendar: per active advisor a cell per slot with the booking in it."""
    shop = await dealership_service.current(session)
    people = await advisors(session)
    hours = await workshop_hours(session, shop)
    return await _grid(session, settings.tz, day, now, rules_of(shop), people, hours)


async def week_grid(
    session: AsyncSession, settings: Settings, monday: date, now: datetime
) -> list[DayGrid]:
    """Seven days from `monday`."""
    shop = await dealership_service.current(session)
    people = await advisors(session)
    hours = await workshop_hours(session, shop)
    rules = rules_of(shop)
    return [
        await _grid(session, settings.tz, monday + timedelta(days=n), now, rules, people, hours)
        for n in range(7)
    ]
