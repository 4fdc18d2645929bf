"""A year of a ten-advisor dealership, written through the models: `python -m bench year`.

At `--scale 1.0`: about 37,000 delivered work orders over the 365 days before today, each
with its check-in (covers, step timings, damage marks, concerns, belongings), about 13
photo rows (the walkaround's positions, each mark, two at delivery), its priced jobs, the
workshop's tasks and clocked time, the final check, the customer's signatures (work
order, approved added work, delivery), the delivery and the follow-up call (left open);
15,000 vehicles of 13,000 customers, so many cars come back several times. The misses of
a real month are in it as in the demo's (app/demo/history/orders.py `Variety`): one in a
hundred cancelled at the check-in, late greetings, missed promises, reworks, bills beyond
the estimate. On top of the demo without its own months (dealership, staff, catalogue,
today's appointments and cars on site), with nine more advisors, eleven more technicians
and a second QC.

Rows go in with bulk inserts into the models' tables (`insert(Model.__table__)`, one
executemany per table), a thousand orders at a time. Every photo row points at one of a
few real files in the photo folder, so thumbnails show. The signatures hold the full
records the app would have signed, built from the rows in memory
(app/demo/history/content.py), so they verify intact. Today's part (`today`, also at
scale 0) goes through the app's own services: two walk-ins on the cars with the most
visits, checked in and estimated, not yet signed, so the estimate page has an order on
both an empty and a full database.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import functools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import wiring
from app.cli import load_demo, upgrade
from app.db import create_engine
from app.demo import data as demo_data
from app.demo.history import orders as year_orders
from app.demo.history import people as year_people
from app.demo.history import write
from app.demo.history.content import Shop
from app.demo.history.orders import Catalogue, Rows
from app.models import (
    Role,
    StaffUser,
    Vehicle,
    WorkOrder,
)
from app.services.staff import sign_in as auth
from app.services.storage.configured import open_store
from app.settings import Settings, from_env

ORDERS_PER_YEAR = 37_000
VEHICLES_PER_YEAR = 15_000
CUSTOMERS_PER_YEAR = 13_000
CHUNK = 1000  # orders per batch of inserts and commit
ADVISORS = 10
TECHNICIANS = 12


@dataclass
class Counts:
    """What the generator promised and wrote (rows per table, seconds)."""

    rows: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def plan(scale: float) -> tuple[int, int, int]:
    """Orders, vehicles and customers at this scale (at least one of each if any)."""
    orders = round(ORDERS_PER_YEAR * scale)
    if orders == 0:
        return 0, 0, 0
    vehicles = max(1, min(orders, round(VEHICLES_PER_YEAR * scale)))
    customers = max(1, min(vehicles, round(CUSTOMERS_PER_YEAR * scale)))
    return orders, vehicles, customers


async def _staff(session: AsyncSession) -> tuple[list[int], list[int], list[int]]:
    """The demo's staff and the rest of a ten-advisor dealership (demo password)."""
    wanted = [(f"advisor{n}", Role.ADVISOR) for n in range(2, ADVISORS + 1)]
    wanted += [(f"technician{n}", Role.TECHNICIAN) for n in range(2, TECHNICIANS + 1)]
    wanted += [("qc2", Role.QC_INSPECTOR)]
    rng = random.Random(7)  # noqa: S311 - reproducible names, not security
    for username, role in wanted:
        if not await auth.find_by_username(session, username):
            await auth.create_user(
                session, username, demo_data.DEMO_PASSWORD, year_people.name(rng), {role},
                password_hash=demo_data._demo_password_hash(),
            )  # fmt: skip
    await session.flush()
    users = (await session.scalars(select(StaffUser).order_by(StaffUser.id))).all()

    def having(role: Role) -> list[int]:
        return [u.id for u in users if role in u.roles]

    return having(Role.ADVISOR), having(Role.TECHNICIAN), having(Role.QC_INSPECTOR)


def _visits(
    rng: random.Random, orders: int, vehicles: list[dict[str, Any]], start: dt.date, tz: Any
) -> list[tuple[dt.datetime, dict[str, Any], int]]:
    """(arrival, vehicle, odometer) per order, in time order: every car once, some many
    times. The cars' last readings become those of their last visit."""
    picks = list(vehicles) + rng.choices(
        vehicles, weights=[1 / (1 + n % 50) for n in range(len(vehicles))], k=orders - len(vehicles)
    )
    out = []
    for vehicle in picks[:orders]:
        day = start + dt.timedelta(days=rng.randrange(365))
        minute = rng.randrange(8 * 60, 17 * 60 + 30)
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)
        out.append((local.astimezone(dt.UTC), vehicle))
    out.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    visits = []
    for arrived, vehicle in out:
        km = vehicle["last_odometer_km"] + rng.randrange(2500, 9000)
        vehicle["last_odometer_km"], vehicle["last_odometer_at"] = km, arrived
        visits.append((arrived, vehicle, km))
    return visits


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


async def history(
    session: AsyncSession, settings: Settings, scale: float, seed: int, now: dt.datetime
) -> Counts:
    """A year of delivered orders before today, in batches; returns the rows written."""
    counts = Counts()
    n_orders, n_vehicles, n_customers = plan(scale)
    if n_orders == 0:
        return counts
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    advisors, technicians, inspectors = await _staff(session)
    catalogue = await Catalogue.load(session)
    shop = await Shop.load(session, settings.currency)
    photos = year_orders.stored_photos(open_store(settings))
    ids = await write.next_ids(session)
    today = now.astimezone(settings.tz).date()
    first = today - dt.timedelta(days=365)
    first_utc = dt.datetime.combine(first, dt.time(), tzinfo=settings.tz)
    customers, vehicles = write.customers_and_vehicles(
        rng, ids, n_vehicles, n_customers, first_utc, await write.taken(session)
    )
    visits = _visits(rng, n_orders, vehicles, first, settings.tz)
    phone_of = {c["id"]: c["phone"] for c in customers}
    name_of = {c["id"]: c["name"] for c in customers}
    rows: Rows = defaultdict(list)
    rows["customer"], rows["vehicle"] = customers, vehicles
    per_day: Counter[dt.date] = Counter()
    for chunk in _chunks(visits, CHUNK):
        for arrived, vehicle, km in chunk:
            day = arrived.astimezone(settings.tz).date()
            per_day[day] += 1
            year_orders.order(
                rows, ids, rng, catalogue, photos, shop,
                year_orders.Visit(
                    arrived=arrived, number=f"WO{day:%Y%m%d}-{per_day[day]:04d}",
                    vehicle=vehicle, phone=phone_of[vehicle["customer_id"]],
                    customer_name=name_of[vehicle["customer_id"]], odometer_km=km,
                    advisor=rng.choice(advisors), technician=rng.choice(technicians),
                    inspector=rng.choice(inspectors),
                ),
            )  # fmt: skip
        await write.insert_rows(session, rows, counts.rows)
        await session.commit()
        done = sum(counts.rows.values())
        print(f"  {counts.rows['work_order']:>6} orders, {done:>8} rows", flush=True)
    await year_orders.fix_sequences(session, ids)
    await session.commit()
    await year_orders.analyze(session)
    await session.commit()
    return counts


async def today(session: AsyncSession, settings: Settings, now: dt.datetime) -> list[int]:
    """Two walk-ins today on the cars with the most visits, through the app's services:
    checked in and estimated, not signed (the estimate page has an order to show)."""
    from app.demo import workshop as demo_workshop

    crew = await demo_workshop.Crew.find(
        session, {role: username for username, _n, role, _l in demo_data.DEMO_USERS}
    )
    if crew is None:
        raise RuntimeError("the demo staff are missing: load the demo first")
    # Cars not seen for a week: a reading a few thousand km on is plausible.
    visits = (
        select(WorkOrder.vehicle_id, func.count(WorkOrder.id).label("n"))
        .join(Vehicle, Vehicle.id == WorkOrder.vehicle_id)
        .where(Vehicle.last_odometer_at < now - dt.timedelta(days=7))
        .group_by(WorkOrder.vehicle_id)
        .order_by(func.count(WorkOrder.id).desc(), WorkOrder.vehicle_id)
        .limit(2)
    )
    vehicle_ids = [row.vehicle_id for row in (await session.execute(visits)).all()]
    day = now.astimezone(settings.tz).date()
    orders = []
    for n, vehicle_id in enumerate(vehicle_ids, start=1):
        vehicle = await session.get(Vehicle, vehicle_id)
        assert vehicle is not None
        story = demo_workshop.STORIES[n % len(demo_workshop.STORIES)]
        number = f"WO{day:%Y%m%d}-{90 + n:04d}"
        check_in = await demo_workshop._check_in(session, vehicle, story, number, crew)
        promised = now + dt.timedelta(hours=3)
        await demo_workshop._estimate(
            session, check_in.work_order, story, promised, settings.tz, now, crew
        )
        orders.append(check_in.work_order_id)
    await session.commit()
    return orders


async def generate(settings: Settings, scale: float, seed: int = 2026) -> Counts:
    """The schema, the demo, a year at `scale` (none at 0), and today's two walk-ins."""
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, settings)
    # The demo without its own months: the year is the history here.
    await asyncio.to_thread(functools.partial(load_demo, settings, history=False))
    wiring.install()
    engine = create_engine(settings.database_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        now = dt.datetime.now(dt.UTC)
        async with sessions() as session:
            counts = await history(session, settings, scale, seed, now)
        async with sessions() as session:
            day = now.astimezone(settings.tz).date()
            if not await session.scalar(
                select(func.count(WorkOrder.id)).where(
                    WorkOrder.number.startswith(f"WO{day:%Y%m%d}-009")
                )
            ):
                counts.rows["today"] = len(await today(session, settings, now))
    finally:
        await engine.dispose()
    counts.seconds = time.perf_counter() - started
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench year",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: a year (default)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="default: WALKAROUND_DATABASE_URL or data dir")
    args = parser.parse_args(argv)
    settings = from_env()
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    counts = asyncio.run(generate(settings, args.scale, args.seed))
    for table, n in sorted(counts.rows.items()):
        print(f"{table:<20} {n:>9}")
    print(f"generated in {counts.seconds:.1f} s ({settings.database_url.split('://')[0]})")
    return 0
