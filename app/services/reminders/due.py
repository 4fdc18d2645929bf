"""Who is due (the reminder list): service from the last delivery's next service date or
km (whichever comes first, the km through the car's projection), the annual inspection
and the insurance expiry where recorded.

Left out: sold cars, customers who opted out, a kind snoozed (not now) until a day still
ahead, a due already booked (the booking still standing) or done elsewhere, and a service
due when the car came in after the delivery that set it. A sent reminder keeps the car on
the list (the customer may still need a call), shown beside it.
Everything is read in a handful of batched queries, whatever the number of cars.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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
from app.models.reminder import ReminderAction, ReminderContact, ReminderKind
from app.models.staff import StaffUser
from app.services import dealership as dealership_service
from app.services.reminders.projection import DEFAULT_KM_PER_YEAR, Projection, projections

KINDS = tuple(k.value for k in ReminderKind)
OVERDUE, WEEK, SOON = "overdue", "week", "soon"
BANDS = (OVERDUE, WEEK, SOON)
WEEK_DAYS = 7
PAGE_SIZE = 40
# An action re-checks the car against this horizon, not the list's filter of the moment.
ACTION_DAYS = 366
# A booking that still stands keeps the due off the list; a cancelled one brings it back.
STANDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)


@dataclass(frozen=True)
class Horizon:
    today: date  # the dealership's local day
    days: int  # due within this many days
    km: int  # or (service) within this many km of the projected odometer
    km_per_year: int = DEFAULT_KM_PER_YEAR


async def horizon(session: AsyncSession, today: date, days: int | None = None) -> Horizon:
    """The dealership's look-ahead (days, km) and default pace."""
    found = await dealership_service.current(session)
    return Horizon(
        today,
        days if days is not None else (found.reminder_days_ahead if found else 30),
        found.reminder_km_ahead if found else 1000,
        found.km_per_year if found else DEFAULT_KM_PER_YEAR,
    )


@dataclass(frozen=True)
class Sent:
    at: datetime
    channel: str


@dataclass(frozen=True)
class Due:
    vehicle_id: int
    customer_id: int
    kind: str  # ReminderKind
    due_on: date
    band: str
    plate: str
    car: str  # make and model
    customer_name: str
    phone: str
    email: str
    locale: str
    advisor_id: int | None  # the last visit's advisor
    advisor_name: str
    next_service_km: int | None = None
    projected_km: int | None = None  # today's projected odometer (service)
    by_km: bool = False  # the service falls due by km before the date
    set_at: datetime | None = None  # the delivery that set the service due
    sent: Sent | None = None  # the last reminder sent for this due

    @property
    def key(self) -> str:
        return f"{self.vehicle_id}-{self.kind}"


def band_of(due_on: date, today: date) -> str:
    if due_on < today:
        return OVERDUE
    if due_on <= today + timedelta(days=WEEK_DAYS):
        return WEEK
    return SOON


@dataclass(frozen=True)
class _Car:
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
class _Last:
    delivered_at: datetime
    next_service_on: date | None
    next_service_km: int | None


@dataclass
class _Contacts:
    snoozed: set[str] = field(default_factory=set)  # kinds snoozed past today
    handled: list[ReminderContact] = field(default_factory=list)  # booked (standing), elsewhere
    sent: list[ReminderContact] = field(default_factory=list)


async def _cars(session: AsyncSession, vehicles: ColumnElement[bool] | None) -> list[_Car]:
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
    return [_Car(*row) for row in await session.execute(query)]


async def _last_deliveries(
    session: AsyncSession, vehicles: ColumnElement[bool] | None
) -> dict[int, _Last]:
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
    return {v: _Last(at, on, km) for v, at, on, km in rows}


async def _last_visits(
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


async def _contacts(
    session: AsyncSession, today: date, vehicles: ColumnElement[bool] | None
) -> dict[int, _Contacts]:
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
    found: dict[int, _Contacts] = {}
    for contact, status in await session.execute(query):
        mine = found.setdefault(contact.vehicle_id, _Contacts())
        if contact.action == ReminderAction.NOT_NOW.value:
            if contact.snooze_until is not None and contact.snooze_until > today:
                mine.snoozed.add(contact.kind)
        elif contact.action == ReminderAction.SENT.value:
            mine.sent.append(contact)
        elif contact.action == ReminderAction.DONE_ELSEWHERE.value or status in STANDING:
            mine.handled.append(contact)
    return found


def _about(contact: ReminderContact, kind: str, due_on: date, set_at: datetime | None) -> bool:
    """Whether a contact was about this due: a service's, made since the delivery that set
    it; an inspection's or insurance's, about the same date."""
    if contact.kind != kind:
        return False
    if kind == ReminderKind.SERVICE.value:
        return set_at is not None and contact.at >= set_at
    return contact.due_on == due_on


@dataclass(frozen=True)
class _Found:
    kind: str
    due_on: date
    next_service_km: int | None = None
    projected_km: int | None = None
    by_km: bool = False
    set_at: datetime | None = None


def _service(
    last: _Last | None, projection: Projection | None, arrived: datetime | None, h: Horizon
) -> _Found | None:
    """The service due, when within the horizon by date or by km."""
    if last is None or (last.next_service_on is None and last.next_service_km is None):
        return None
    if arrived is not None and arrived > last.delivered_at:
        return None  # the car came in since: its next service is that visit's business
    by_date = last.next_service_on
    by_km = (
        projection.reaches(last.next_service_km)
        if projection is not None and last.next_service_km is not None
        else None
    )
    candidates = [d for d in (by_date, by_km) if d is not None]
    if not candidates:
        return None
    due_on = min(candidates)
    projected = projection.km_on(h.today) if projection is not None else None
    near_km = (
        last.next_service_km is not None
        and projected is not None
        and projected >= last.next_service_km - h.km
    )
    if due_on > h.today + timedelta(days=h.days) and not near_km:
        return None
    first_by_km = by_km is not None and (by_date is None or by_km < by_date)
    return _Found(
        ReminderKind.SERVICE.value, due_on, last.next_service_km, projected, first_by_km,
        last.delivered_at,
    )  # fmt: skip


def _found(car: _Car, service: _Found | None, limit: date) -> list[_Found]:
    found = [service] if service is not None else []
    for kind, on in (
        (ReminderKind.INSPECTION.value, car.inspection_due_on),
        (ReminderKind.INSURANCE.value, car.insurance_due_on),
    ):
        if on is not None and on <= limit:
            found.append(_Found(kind, on))
    return found


async def due(
    session: AsyncSession,
    tz: ZoneInfo,
    h: Horizon,
    vehicles: ColumnElement[bool] | None = None,
) -> list[Due]:
    """Every due within the horizon (of the cars matching `vehicles`), soonest first."""
    cars = await _cars(session, vehicles)
    if not cars:
        return []
    last = await _last_deliveries(session, vehicles)
    visits = await _last_visits(session, vehicles)
    contacts = await _contacts(session, h.today, vehicles)
    paces = await projections(session, tz, h.km_per_year, vehicles, vehicle_ids=last)
    limit = h.today + timedelta(days=h.days)
    rows: list[Due] = []
    for car in cars:
        visit = visits.get(car.vehicle_id)
        mine = contacts.get(car.vehicle_id, _Contacts())
        service = _service(
            last.get(car.vehicle_id), paces.get(car.vehicle_id), visit[0] if visit else None, h
        )
        for f in _found(car, service, limit):
            if f.kind in mine.snoozed or any(
                _about(x, f.kind, f.due_on, f.set_at) for x in mine.handled
            ):
                continue
            sent = [x for x in mine.sent if _about(x, f.kind, f.due_on, f.set_at)]
            rows.append(
                Due(
                    vehicle_id=car.vehicle_id, customer_id=car.customer_id, kind=f.kind,
                    due_on=f.due_on, band=band_of(f.due_on, h.today), plate=car.plate,
                    car=f"{car.make} {car.model}", customer_name=car.name, phone=car.phone,
                    email=car.email, locale=car.locale,
                    advisor_id=visit[1] if visit else None,
                    advisor_name=visit[2] if visit else "",
                    next_service_km=f.next_service_km, projected_km=f.projected_km,
                    by_km=f.by_km, set_at=f.set_at,
                    sent=Sent(sent[-1].at, sent[-1].channel) if sent else None,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.due_on, KINDS.index(r.kind), r.plate, r.vehicle_id))
    return rows


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    band: str = ""
    advisor_id: int | None = None
    page: int = 1


@dataclass(frozen=True)
class DueList:
    rows: list[Due]  # this page
    total: int  # matching the filters
    bands: dict[str, int]  # matching the kind and advisor filters, per band
    page: int
    pages: int


def select_page(rows: Iterable[Due], filters: Filters, page_size: int = PAGE_SIZE) -> DueList:
    chosen = [
        r for r in rows
        if (not filters.kind or r.kind == filters.kind)
        and (filters.advisor_id is None or r.advisor_id == filters.advisor_id)
    ]  # fmt: skip
    bands = {b: sum(1 for r in chosen if r.band == b) for b in BANDS}
    if filters.band:
        chosen = [r for r in chosen if r.band == filters.band]
    pages = max(1, -(-len(chosen) // page_size))
    page = min(max(filters.page, 1), pages)
    start = (page - 1) * page_size
    return DueList(chosen[start : start + page_size], len(chosen), bands, page, pages)


async def load(
    session: AsyncSession, tz: ZoneInfo, h: Horizon, filters: Filters = Filters()
) -> DueList:
    return select_page(await due(session, tz, h), filters)


async def one(
    session: AsyncSession, tz: ZoneInfo, h: Horizon, vehicle_id: int, kind: str
) -> Due | None:
    """This car's due of this kind, if it is still on the list."""
    for row in await due(session, tz, h, Vehicle.id == vehicle_id):
        if row.kind == kind:
            return row
    return None
