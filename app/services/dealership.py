from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Dealership


async def current(session: AsyncSession) -> Dealership | None:
    """The dealership this install serves (the first one configured)."""
    return (await session.scalars(select(Dealership).order_by(Dealership.id).limit(1))).first()
