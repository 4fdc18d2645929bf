"""Booking a visit from the reminder list (an active appointment), refused in the past,
outside opening hours or with an advisor whose day is full."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Role,
    StaffRole,
    StaffUser,
)
from app.models.reminder import ReminderAction
from app.services import audit
from app.services import dealership as dealership_service
from app.services.audit import Actor
from app.services.reminders.actions import Outcome, contact_for, kind_label, still_due
from app.services.reminders.records import STANDING
from app.settings import Settings

MAX_BOOKING_DAYS = 180


def _clock(raw: str, fallback: time) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        return fallback


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
    """An appointment (active, booked) at a time in opening hours, with an advisor who has
    room that day; the due leaves the list while the booking stands."""
    try:
        local = datetime.fromisoformat(scheduled.strip())
    except ValueError:
        raise InvalidInput(
            _("Enter the day and time of the visit."), field="scheduled_at"
        ) from None
    tz = settings.tz
    local = local.replace(tzinfo=tz) if local.tzinfo is None else local.astimezone(tz)
    at = local.astimezone(UTC)
    if at <= now:
        raise InvalidInput(_("That time has passed: choose a time ahead."), field="scheduled_at")
    if at > now + timedelta(days=MAX_BOOKING_DAYS):
        raise InvalidInput(
            _("Book at most %(n)s days ahead.", n=MAX_BOOKING_DAYS), field="scheduled_at"
        )
    shop = await dealership_service.current(session)
    opens = _clock(shop.workshop_opens if shop else "", time(8, 30))
    closes = _clock(shop.workshop_closes if shop else "", time(18, 0))
    if not opens <= local.time().replace(tzinfo=None) < closes:
        raise InvalidInput(
            _("The workshop is open from %(opens)s to %(closes)s: choose a time in between.",
              opens=opens.strftime("%H:%M"), closes=closes.strftime("%H:%M")),
            field="scheduled_at",
        )  # fmt: skip
    if advisor_id is None:
        raise InvalidInput(_("Choose the advisor for the visit."), field="advisor_id")
    advisor = await session.scalar(
        select(StaffUser)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffUser.id == advisor_id, StaffUser.is_active, StaffRole.role == Role.ADVISOR)
    )
    if advisor is None:
        raise InvalidInput(_("Choose the advisor for the visit."), field="advisor_id")
    _vehicle, _customer, row = await still_due(session, settings, vehicle_id, kind, now)
    capacity = shop.advisor_daily_capacity if shop else 15
    day_starts = datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(UTC)
    booked = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.advisor_id == advisor.id,
            Appointment.status.in_(STANDING),
            Appointment.scheduled_at >= day_starts,
            Appointment.scheduled_at < day_starts + timedelta(days=1),
        )
    )
    if (booked or 0) >= capacity:
        raise InvalidInput(
            _("%(name)s already has %(n)s visits booked that day, the most an advisor takes. "
              "Choose another advisor or day.", name=advisor.display_name, n=booked),
            field="advisor_id",
        )  # fmt: skip
    appointment = Appointment(
        customer_id=row.customer_id, vehicle_id=row.vehicle_id, advisor_id=advisor.id,
        scheduled_at=at, requested_work=kind_label(row.kind),
        source=AppointmentSource.ACTIVE, status=AppointmentStatus.BOOKED,
        notes=_("Booked from the reminder list"),
    )  # fmt: skip
    session.add(appointment)
    await session.flush()
    contact = contact_for(
        row, ReminderAction.BOOKED.value, actor, now, appointment_id=appointment.id
    )
    session.add(contact)
    audit.record(
        session, actor, "reminder.booked", "vehicle", row.vehicle_id,
        kind=row.kind, appointment=appointment.id, at=at.isoformat(),
    )  # fmt: skip
    await session.flush()
    return Outcome(row, contact, appointment=appointment)
