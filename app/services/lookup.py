"""Find a customer's vehicle by plate, VIN, phone, name or work order number (the walk-in
and lane board lookup).

What is typed is first looked up as the start of a plate (with or without its province),
a VIN, a phone number or a name: ranges on their indexes, so a year of customers costs
what thirty do. Only when nothing starts so is it searched anywhere in them (the
phone's last digits, the middle of a plate), which reads every customer and car."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.models import Customer, Vehicle, WorkOrder
from app.services.plates import CN_PROVINCES
from app.text import search_text

MIN_QUERY = 2


def _compact(text: str) -> str:
    # Plates are written with and without separators: 粤A·12345, 粤A 12345, 粤a12345.
    return "".join(ch for ch in text if ch.isalnum()).upper()


def _order_number(text: str) -> str:
    # Numbers read WO20261202-0004: typed in lower case or with spaces too.
    return "".join(ch for ch in text if ch.isalnum() or ch == "-").upper()


def _starts(column: QueryableAttribute[Any], text: str) -> ColumnElement[bool]:
    """`column` starts with `text`, as a range its index answers: [text, the next string
    after all that start with it). Plates, VINs and phones are upper-case letters and
    digits, compared by code point (SQLite, and PostgreSQL with the C collation)."""
    if ord(text[-1]) >= 0x10FFFF:  # no string follows it: a LIKE, read in full
        return column.startswith(text, autoescape=True)
    following = text[:-1] + chr(ord(text[-1]) + 1)
    return and_(column >= text, column < following)


async def find_vehicles(session: AsyncSession, query: str, limit: int = 20) -> list[Vehicle]:
    query = search_text(query).strip()
    if len(query) < MIN_QUERY:
        return []
    compact = _compact(query)
    phone = query.replace(" ", "")
    on_vehicle = []
    if compact:
        on_vehicle += [_starts(Vehicle.vin, compact), _starts(Vehicle.plate, compact)]
        if compact[0].isascii() and compact[0].isalpha():  # 'B12345' ends 粤B12345
            on_vehicle += [_starts(Vehicle.plate, p + compact) for p in CN_PROVINCES]
    starting = [select(Vehicle.id).join(Customer, Vehicle.customer_id == Customer.id).where(
        or_(_starts(Customer.name, query), _starts(Customer.phone, phone))
    )]  # fmt: skip
    if on_vehicle:
        starting.append(select(Vehicle.id).where(or_(*on_vehicle)))
    number = _order_number(query)
    if len(number) > MIN_QUERY:  # 'WO2026…': an order's number, from its start
        starting.append(select(WorkOrder.vehicle_id).where(_starts(WorkOrder.number, number)))
    found = await _vehicles(session, Vehicle.id.in_(union(*starting)), limit)
    if found:
        return found
    like = f"%{query}%"
    anywhere = [Customer.name.ilike(like), Customer.phone.contains(phone)]
    if compact:
        anywhere += [Vehicle.vin.contains(compact), Vehicle.plate.contains(compact)]
    if number:  # the order's running number, e.g. '0004'
        numbered = select(WorkOrder.vehicle_id).where(WorkOrder.number.contains(number))
        anywhere.append(Vehicle.id.in_(numbered))
    return await _vehicles(session, or_(*anywhere), limit)


async def _vehicles(session: AsyncSession, where: ColumnElement[bool], limit: int) -> list[Vehicle]:
    stmt = (
        select(Vehicle)
        .join(Customer, Vehicle.customer_id == Customer.id)
        .where(where)
        .order_by(func.lower(Customer.name), Vehicle.plate)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).unique().all())
