"""Find a customer's vehicle by plate, VIN, phone or name (the walk-in lookup)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Customer, Vehicle
from app.text import search_text

MIN_QUERY = 2


def _compact(text: str) -> str:
    # Plates are written with and without separators: 粤A·12345, 粤A 12345, 粤a12345.
    return "".join(ch for ch in text if ch.isalnum()).upper()


async def find_vehicles(session: AsyncSession, query: str, limit: int = 20) -> list[Vehicle]:
    query = search_text(query).strip()
    if len(query) < MIN_QUERY:
        return []
    compact = _compact(query)
    like = f"%{query}%"
    conditions = [Customer.name.ilike(like), Customer.phone.contains(query.replace(" ", ""))]
    if compact:
        conditions += [Vehicle.vin.contains(compact), Vehicle.plate.contains(compact)]
    stmt = (
        select(Vehicle)
        .join(Customer, Vehicle.customer_id == Customer.id)
        .where(or_(*conditions))
        .order_by(func.lower(Customer.name), Vehicle.plate)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).unique().all())
