"""Late, no-show and waiting flags on today's bookings, from the records' own times.

A booking still not arrived more than `late` minutes past its time is late, and from
`no_show` minutes on a no-show (also one already marked so); an arrival not yet greeted
(no check-in started) since the greeting standard is waiting too long. One query decides:
the thresholds are times computed here, so the database only compares columns."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Appointment, AppointmentStatus


class Flag(enum.StrEnum):
    LATE = "late"
    NO_SHOW = "no_show"
    WAITING = "waiting"  # arrived and not greeted within the standard


@dataclass(frozen=True)
class Thresholds:
    greeting_minutes: int = 5
    late_minutes: int = 15
    no_show_minutes: int = 60


@dataclass(frozen=True)
class Flags:
    by_appointment: dict[int, Flag]

    @property
    def counts(self) -> Counter[Flag]:
        return Counter(self.by_appointment.values())


async def flag(session: AsyncSession, ids: list[int], now: datetime, limits: Thresholds) -> Flags:
    """The flag of each of these appointments that has one, as of `now`."""
    if not ids:
        return Flags({})
    booked = Appointment.status == AppointmentStatus.BOOKED
    kind = case(
        (Appointment.status == AppointmentStatus.NO_SHOW, literal(Flag.NO_SHOW.value)),
        (
            and_(
                booked, Appointment.scheduled_at <= now - timedelta(minutes=limits.no_show_minutes)
            ),
            literal(Flag.NO_SHOW.value),
        ),
        (
            and_(booked, Appointment.scheduled_at < now - timedelta(minutes=limits.late_minutes)),
            literal(Flag.LATE.value),
        ),
        (
            and_(
                Appointment.status == AppointmentStatus.ARRIVED,
                Appointment.arrived_at <= now - timedelta(minutes=limits.greeting_minutes),
            ),
            literal(Flag.WAITING.value),
        ),
        else_=None,
    )
    rows = (
        await session.execute(select(Appointment.id, kind).where(Appointment.id.in_(ids)))
    ).all()
    return Flags({appt_id: Flag(value) for appt_id, value in rows if value is not None})
