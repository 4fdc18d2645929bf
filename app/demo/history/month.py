"""Two months of history for the demo, so the board, the monthly report and the reminders
show something real: the 60 days before today (last month and the one before whole), 8-14
cars a weekday and fewer at weekends, for the demo's own advisor, technician and QC
inspector, on new customers and on the demo's cars that are free (not on site, not booked
today, not on a call list), with the misses a real month has (`orders.Variety`: late
greetings, missed promises, reworks, bills beyond the estimate, late calls). Plus, for the
reminders, 40 cars last serviced 5-12 months ago whose next service falls between 20 days
ago and 45 days ahead, each with an earlier visit so its mileage can be projected, and a
few annual inspections and insurance renewals due in the coming weeks.

Written as rows with ORM bulk inserts (as `bench.year` writes a year), once: the order
numbers carry MARK, and a second load adds nothing. Only before today: today's lane,
workshop and follow-up queue are the demo's own (every call here is made and closed)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import follow_ups as demo_follow_ups
from app.demo.history import orders, write
from app.demo.history.content import Shop
from app.demo.history.orders import Catalogue, Rows, Variety, Visit
from app.i18n import Formatter, _, locale_as
from app.models import (
    Appointment,
    FollowUpStatus,
    FollowUpTask,
    OutboundMessage,
    ReminderAction,
    ReminderContact,
    ReminderKind,
    Role,
    StaffUser,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services.storage.files import FileStore

MARK = "-M"  # in the order number: this module's orders (and whether it ran)
DEVICE = "demo-history-tablet"  # the signatures' device
DAYS = 60
# Of the cars that came back in the months, the share reminded by SMS some days before;
# and as many again reminded that have not come (yet): the report's response rate.
REMINDED = 0.25
OLDER = 40  # cars due for service, last seen 5-12 months ago
COME_BACK = 0.08  # of the visits: a car seen earlier in the window, back again
KM_A_DAY = (25, 60)  # how far the cars are driven


@dataclass(frozen=True)
class Crew:
    advisors: list[int]
    technicians: list[int]
    inspectors: list[int]
    clerk: int | None

    @classmethod
    async def find(cls, session: AsyncSession) -> Crew | None:
        users = (
            await session.scalars(
                select(StaffUser).where(StaffUser.is_active.is_(True)).order_by(StaffUser.id)
            )
        ).all()

        def having(role: Role) -> list[int]:
            return [u.id for u in users if role in u.roles]

        crew = cls(
            having(Role.ADVISOR),
            having(Role.TECHNICIAN),
            having(Role.QC_INSPECTOR),
            next(iter(having(Role.CUSTOMER_RELATIONS)), None),
        )
        return crew if crew.advisors and crew.technicians and crew.inspectors else None


def _local(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    at = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)
    return at.astimezone(dt.UTC)


def arrivals(rng: random.Random, first: dt.date, today: dt.date, tz: ZoneInfo) -> list[dt.datetime]:
    """The arrival times: 8-14 cars a weekday, 4-7 on Saturdays, 2-4 on Sundays."""
    out = []
    day = first
    while day < today:
        weekday = day.weekday()
        count = (
            rng.randint(8, 14)
            if weekday < 5
            else rng.randint(4, 7)
            if weekday == 5
            else rng.randint(2, 4)
        )
        opens, last = (8 * 60, 16 * 60) if weekday < 5 else (9 * 60, 15 * 60)
        out += sorted(_local(day, rng.randrange(opens, last), tz) for _n in range(count))
        day += dt.timedelta(days=1)
    return out


async def _free_cars(session: AsyncSession, tz: ZoneInfo, now: dt.datetime) -> list[Vehicle]:
    """The demo's cars the history may add visits to: none on site, booked today or on a
    call list (their stories today stay as they are)."""
    today = now.astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time(), tzinfo=tz)
    busy = set(
        (
            await session.scalars(
                select(WorkOrder.vehicle_id).where(
                    (WorkOrder.status != WorkOrderStatus.DELIVERED)
                    | WorkOrder.number.contains(demo_follow_ups.MARK)
                )
            )
        ).all()
    )
    busy |= set(
        (
            await session.scalars(
                select(Appointment.vehicle_id).where(
                    Appointment.scheduled_at >= start,
                    Appointment.scheduled_at < start + dt.timedelta(days=1),
                )
            )
        ).all()
    )
    calls = await session.scalars(
        select(FollowUpTask.vehicle_id).where(FollowUpTask.status == FollowUpStatus.OPEN.value)
    )
    busy |= {vehicle_id for vehicle_id in calls.all() if vehicle_id is not None}
    cars = (await session.scalars(select(Vehicle).order_by(Vehicle.id))).all()
    return [car for car in cars if car.id not in busy]


def _as_row(car: Vehicle) -> dict[str, Any]:
    keys = ("id", "customer_id", "vin", "plate", "make", "model", "year", "colour")
    row = {key: getattr(car, key) for key in keys}
    row["last_odometer_km"] = car.last_odometer_km or 0
    row["last_odometer_at"] = car.last_odometer_at
    return row


def _odometer(rng: random.Random, car: dict[str, Any], at: dt.datetime) -> int:
    """The reading at `at`, driven on from the car's last one (or back from it, for a
    visit before it); the car keeps its newest reading."""
    per_day = rng.randrange(*KM_A_DAY)
    last_km, last_at = car["last_odometer_km"], car["last_odometer_at"]
    if last_at is None:
        km = last_km + rng.randrange(0, 900)
    else:
        km = max(10, last_km + round((at - last_at).total_seconds() / 86400 * per_day))
    if last_at is None or at > last_at:
        car["last_odometer_km"], car["last_odometer_at"] = km, at
    return km


@dataclass
class Book:
    """The people: who each car belongs to, and the order numbers per day."""

    names: dict[int, tuple[str, str]]
    per_day: Counter[dt.date]
    crew: Crew
    tz: ZoneInfo

    def visit(
        self, rng: random.Random, car: dict[str, Any], arrived: dt.datetime,
        km: int, next_service: tuple[dt.date, int] | None = None,
    ) -> Visit:  # fmt: skip
        day = arrived.astimezone(self.tz).date()
        self.per_day[day] += 1
        name, phone = self.names[car["customer_id"]]
        return Visit(
            arrived=arrived, number=f"WO{day:%Y%m%d}{MARK}{self.per_day[day]:03d}",
            vehicle=car, phone=phone, customer_name=name, odometer_km=km,
            advisor=rng.choice(self.crew.advisors), technician=rng.choice(self.crew.technicians),
            inspector=rng.choice(self.crew.inspectors),
            closes_at=_local(day, 18 * 60, self.tz), clerk=self.crew.clerk,
            next_service=next_service, device=DEVICE,
        )  # fmt: skip


def _recent(
    rng: random.Random, book: Book, times: list[dt.datetime], back: list[bool],
    pool: list[dict[str, Any]],
) -> list[Visit]:  # fmt: skip
    """A visit at each time: a car from the pool, or (`back`) one seen 10 days before."""
    visits: list[Visit] = []
    seen: list[dict[str, Any]] = []
    for arrived, again in zip(times, back, strict=True):
        earlier = [c for c in seen if c["last_odometer_at"] < arrived - dt.timedelta(days=10)]
        car = rng.choice(earlier) if again and earlier else pool.pop()
        if not any(c is car for c in seen):
            seen.append(car)
        visits.append(book.visit(rng, car, arrived, _odometer(rng, car, arrived)))
    return visits


def _older(
    rng: random.Random, book: Book, cars: list[dict[str, Any]], today: dt.date
) -> list[Visit]:  # fmt: skip
    """Two visits per car, the last 5-12 months ago, its next service due between 20
    days ago and 45 days ahead (by date and, driven on as before, by km)."""
    visits = []
    for car in cars:
        last_day = today - dt.timedelta(days=rng.randint(150, 365))
        earlier_day = last_day - dt.timedelta(days=rng.randint(150, 250))
        due_on = today + dt.timedelta(days=rng.randint(-20, 45))
        per_day = rng.randrange(*KM_A_DAY)
        # Each visit's next service: the earlier one's about when the car came again.
        for planned, next_on in ((earlier_day, last_day), (last_day, due_on)):
            day = planned - dt.timedelta(days=1) if planned.weekday() == 6 else planned
            arrived = _local(day, rng.randrange(8 * 60, 16 * 60), book.tz)
            km = _odometer(rng, car, arrived)
            next_km = km + per_day * (next_on - day).days
            visits.append(book.visit(rng, car, arrived, km, (next_on, next_km)))
    return visits


def _dates_due(rng: random.Random, cars: list[dict[str, Any]], today: dt.date) -> None:
    """Annual inspections (年检) and insurance renewals coming up for a few cars."""
    for n, car in enumerate(cars):
        soon = today + dt.timedelta(days=rng.randint(3, 40))
        car["inspection_due_on"] = soon if n % 5 == 0 else None
        car["insurance_due_on"] = soon + dt.timedelta(days=7) if n % 5 == 2 else None


async def month(
    session: AsyncSession, tz: ZoneInfo, now: dt.datetime, currency: str,
    store: FileStore | None = None, *, days: int = DAYS, seed: int = 2026,
) -> Counter[str]:  # fmt: skip
    """The history, once (none if it ran before or the demo staff are missing); returns
    the rows written per table."""
    counts: Counter[str] = Counter()
    done = await session.scalar(
        select(WorkOrder.id).where(WorkOrder.number.contains(MARK)).limit(1)
    )
    crew = await Crew.find(session)
    if done is not None or crew is None:
        return counts
    await session.flush()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    catalogue = await Catalogue.load(session)
    shop = await Shop.load(session, currency)
    photos = orders.stored_photos(store) if store is not None else []
    ids = await write.next_ids(session)
    today = now.astimezone(tz).date()
    times = arrivals(rng, today - dt.timedelta(days=days), today, tz)
    back = [rng.random() < COME_BACK for _t in times]
    free = await _free_cars(session, tz, now)
    demo_cars = [_as_row(car) for car in free]
    fresh = sum(not b for b in back)
    wanted = max(0, fresh - len(demo_cars)) + OLDER + 20  # and a few spare
    first_day = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), tzinfo=tz)
    customers, new_cars = write.customers_and_vehicles(
        rng, ids, wanted, round(wanted * 0.93), first_day, await write.taken(session)
    )
    for n, customer in enumerate(customers):
        # Some give an e-mail address; a few read English (their reminders come in it).
        customer["email"] = f"demo{customer['id']}@example.com" if n % 3 == 0 else ""
        customer["locale"] = "en" if n % 12 == 0 else "zh_CN"
    names = {c["id"]: (c["name"], c["phone"]) for c in customers}
    names |= {car.customer_id: (car.customer.name, car.customer.phone) for car in free}
    book = Book(names, Counter(), crew, tz)
    older, month_cars = new_cars[:OLDER], new_cars[OLDER:]
    _dates_due(rng, older + month_cars[:20], today)
    pool = demo_cars + month_cars
    rng.shuffle(pool)
    visits = _older(rng, book, older, today) + _recent(rng, book, times, back, pool)
    rows: Rows = defaultdict(list)
    variety = Variety(called_before=now)
    serviced = replace(variety, cancelled=0.0)  # the visits the reminders count on
    for visit in sorted(visits, key=lambda v: v.arrived):
        kept = serviced if visit.next_service is not None else variety
        orders.order(rows, ids, rng, catalogue, photos, shop, visit, kept)
    rows["customer"], rows["vehicle"] = customers, new_cars
    for car in new_cars:
        car.setdefault("inspection_due_on", None)
        car.setdefault("insurance_due_on", None)
    await write.insert_rows(session, rows, counts)
    for vehicle, car in zip(free, demo_cars, strict=True):
        vehicle.last_odometer_km = car["last_odometer_km"]
        vehicle.last_odometer_at = car["last_odometer_at"]
    await orders.fix_sequences(session, ids)
    await session.flush()
    counts["reminder_contact"] = await _reminders_sent(
        session, rng, visits, older, names, tz, today - dt.timedelta(days=days)
    )
    return counts


async def _reminders_sent(
    session: AsyncSession, rng: random.Random, visits: list[Visit],
    older: list[dict[str, Any]], names: dict[int, tuple[str, str]], tz: ZoneInfo,
    first: dt.date,
) -> int:  # fmt: skip
    """Service reminders sent by SMS in the months (an outbox message and its contact):
    some days before a car of the months came in, and to cars of the older visits that
    are due now and have not come."""
    fmt = Formatter(str(tz), "CNY")
    came = [v for v in visits if v.arrived.astimezone(tz).date() - first > dt.timedelta(days=20)]
    picks = [(v.vehicle, v.arrived - dt.timedelta(days=rng.randint(5, 18))) for v in came
             if rng.random() < REMINDED]  # fmt: skip
    last_sent = dt.datetime.combine(first, dt.time(10), tzinfo=tz)
    picks += [(car, last_sent + dt.timedelta(days=rng.randint(5, 40)))
              for car in rng.sample(older, min(len(older), len(picks)))]  # fmt: skip
    for car, at in picks:
        name, phone = names[car["customer_id"]]
        with locale_as("zh_CN"):
            body = _(
                "Dear %(name)s, your %(car)s (%(plate)s) is due for its next service on "
                "%(date)s.",
                name=name, car=f"{car['make']} {car['model']}", plate=car["plate"],
                date=fmt.date(at + dt.timedelta(days=14), "long"),
            )  # fmt: skip
        message = OutboundMessage(channel="sms", recipient=phone, body=body, status="sent",
                                  sent_at=at, created_at=at)  # fmt: skip
        session.add(message)
        await session.flush()
        session.add(ReminderContact(
            vehicle_id=car["id"], customer_id=car["customer_id"],
            kind=ReminderKind.SERVICE.value, due_on=(at + dt.timedelta(days=14)).date(),
            action=ReminderAction.SENT.value, channel="sms", message_id=message.id, at=at,
            created_at=at,
        ))  # fmt: skip
    await session.flush()
    return len(picks)
