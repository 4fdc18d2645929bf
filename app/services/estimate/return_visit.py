"""Booking the customer back for the day an ordered part arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import Appointment, AppointmentSource, AppointmentStatus, WorkOrder
from app.services import audit
from app.services.audit import Actor
from app.services.estimate.pricing import dealership, order_jobs


async def book_return_visit(
    session: AsyncSession, order: WorkOrder, tz: ZoneInfo, actor: Actor
) -> Appointment:
    """A part must be ordered: book the customer back for the day it arrives,
    an hour after the workshop opens, with the jobs that wait for it."""
    waiting = [
        job
        for job in await order_jobs(session, order)
        if job.declined_at is None and any(ln.expected_on for ln in job.lines)
    ]
    if not waiting:
        raise InvalidInput(_("No part on this estimate has to be ordered."))
    arrives = max(ln.expected_on for job in waiting for ln in job.lines if ln.expected_on)
    shop = await dealership(session)
    hours, minutes = (int(v) for v in shop.workshop_opens.split(":"))
    at = datetime.combine(arrives, datetime.min.time(), tzinfo=tz).replace(
        hour=hours, minute=minutes
    ) + timedelta(hours=1)
    note = _("Parts ordered for work order %(number)s", number=order.number)
    existing = await session.scalar(
        select(Appointment).where(
            Appointment.vehicle_id == order.vehicle_id,
            Appointment.notes.contains(order.number),
            Appointment.status == AppointmentStatus.BOOKED,
        )
    )
    if existing is not None:  # a double tap books once
        return existing
    appointment = Appointment(
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        advisor_id=actor.user_id,
        scheduled_at=at.astimezone(UTC),
        requested_work="; ".join(job.title for job in waiting),
        source=AppointmentSource.ACTIVE,
        notes=note,
    )
    session.add(appointment)
    await session.flush()
    audit.record(
        session, actor, "estimate.return_visit", "work_order", order.id,
        appointment=appointment.id, at=appointment.scheduled_at.isoformat(),
    )  # fmt: skip
    return appointment
