"""Arrange helpers shared by the check-in tests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo_data
from app.models import Appointment, CheckIn, Role
from app.services.audit import Actor
from app.services.check_in import steps as check_ins
from app.settings import Settings


async def started_check_in(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """Demo data plus a check-in started from today's first appointment; committed."""
    await demo_data.load(db, settings.tz, on_site=False)
    appointment_id = await db.scalar(select(Appointment.id).order_by(Appointment.id).limit(1))
    assert appointment_id is not None
    check_in = await check_ins.start_from_appointment(
        db, appointment_id, Actor(users[Role.ADVISOR])
    )
    await db.commit()
    return check_in.id


async def fresh(db: AsyncSession, check_in_id: int) -> CheckIn:
    """The check-in as the database has it now (a new snapshot)."""
    await db.rollback()
    db.expire_all()
    check_in = await db.get(CheckIn, check_in_id)
    assert check_in is not None
    return check_in
