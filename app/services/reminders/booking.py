"""Booking a visit from the reminder list (an active appointment) through the appointments
core: refused in the past, outside opening hours, off the slot grid or with an advisor
whose day or slot is full."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import AppointmentChannel, AppointmentJobSource
from app.models.reminder import ReminderAction
from app.services import audit
from app.services.appointments import booking as appointments
from app.services.appointments.estimate import JobInput
from app.services.audit import Actor
from app.services.reminders.actions import Outcome, contact_for, kind_label, still_due
from app.settings import Settings


async def book(
    session: AsyncSession,
    settings: Settings,
    vehicle_id: int,
    kind: str,
    scheduled: str,
    advisor_id: int | None,
    actor: Actor,
    now: datetime,
) -> Outcome:
    """An appointment (active, booked) at a free slot with an advisor who has room that
    day; the due leaves the list while the booking stands."""
    if advisor_id is None:
        raise InvalidInput(_("Choose the advisor for the visit."), field="advisor_id")
    _vehicle, _customer, row = await still_due(session, settings, vehicle_id, kind, now)
    data = appointments.BookingInput(
        vehicle_id=row.vehicle_id,
        advisor_id=advisor_id,
        starts_at=scheduled,
        channel=AppointmentChannel.REMINDER.value,
        jobs=[JobInput(source=AppointmentJobSource.MANUAL.value, title=kind_label(row.kind))],
        notes=_("Booked from the reminder list"),
    )
    try:
        appointment = await appointments.book(session, settings, data, actor, now)
    except InvalidInput as exc:
        # The reminder form names its time field scheduled_at.
        if exc.field == "starts_at":
            raise InvalidInput(exc.message, field="scheduled_at") from exc
        raise
    contact = contact_for(
        row, ReminderAction.BOOKED.value, actor, now, appointment_id=appointment.id
    )
    session.add(contact)
    audit.record(
        session, actor, "reminder.booked", "vehicle", row.vehicle_id,
        kind=row.kind, appointment=appointment.id, at=appointment.scheduled_at.isoformat(),
    )  # fmt: skip
    await session.flush()
    return Outcome(row, contact, appointment=appointment)
