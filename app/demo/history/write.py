"""Writing history: the next ids, new customers and their cars, and every table's rows of
a batch with bulk inserts (shared by the demo's months and `bench.year`)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.history import people
from app.demo.history.orders import Ids, Rows
from app.models import Base, Customer, Vehicle


async def next_ids(session: AsyncSession) -> Ids:
    ids = Ids()
    for table in Base.metadata.sorted_tables:
        if "id" in table.c:
            ids.next[table.name] = (await session.scalar(select(func.max(table.c.id))) or 0) + 1
    return ids


async def taken(session: AsyncSession) -> tuple[set[str], set[str], set[str]]:
    """The phones, plates and VINs already stored: new ones must differ."""
    phones = set((await session.scalars(select(Customer.phone))).all())
    plates = set((await session.scalars(select(Vehicle.plate))).all())
    vins = {v for v in (await session.scalars(select(Vehicle.vin))).all() if v}
    return phones, plates, vins


def customers_and_vehicles(
    rng: random.Random, ids: Ids, vehicles: int, customers: int, first_day: dt.datetime,
    seen: tuple[set[str], set[str], set[str]] = (set(), set(), set()),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """New customers, and a car each (a few with a second one), unlike those `seen`."""
    phones, plates, vins = (people.Unique(set(values)) for values in seen)
    names = people.Unique()
    customer_rows = []
    for _n in range(customers):
        # Two people of one name happen; one in five names repeats a common one.
        who = people.name(rng) if rng.random() < 0.2 else names.draw(
            lambda: people.name(rng) + rng.choice(people.GIVEN)
        )  # fmt: skip
        customer_rows.append({
            "id": ids.take("customer"), "name": who, "phone": phones.draw(
                lambda: people.mobile(rng)), "email": "", "locale": "zh_CN",
            "created_at": first_day - dt.timedelta(days=rng.randrange(30, 2000)),
        })  # fmt: skip
    vehicle_rows = []
    for n in range(vehicles):
        # Every customer has a car; a few have a second one.
        owner = customer_rows[n if n < customers else rng.randrange(customers)]
        make, model, wmi, vds, colours = rng.choice(people.MODELS)
        year = rng.choice(sorted(people.YEAR_CODES))
        vehicle_rows.append({
            "id": ids.take("vehicle"), "customer_id": owner["id"],
            "vin": vins.draw(lambda: people.vin(rng, wmi, vds, year)),  # noqa: B023
            "plate": plates.draw(lambda: people.plate(rng)), "make": make, "model": model,
            "year": year, "colour": rng.choice(colours), "created_at": owner["created_at"],
            "last_odometer_km": (2026 - year) * rng.randrange(9000, 16000),
            "last_odometer_at": None,
        })  # fmt: skip
    return customer_rows, vehicle_rows


async def insert_rows(session: AsyncSession, rows: Rows, counts: Counter[str]) -> None:
    """Every table's rows of a batch, parents first: one executemany per table (the
    models' tables, as `insert(Model)` would write them, at twice the speed)."""
    for table in Base.metadata.sorted_tables:
        batch = rows.pop(table.name, None)
        if batch:
            await session.execute(insert(table), batch)
            counts[table.name] += len(batch)
    if rows:
        raise RuntimeError(f"rows for unknown tables: {sorted(rows)}")
