"""What the calendar and booking screens show: labels, the day and week navigation, the
booking's messages in the outbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _, get_locale
from app.models import OutboundMessage, StaffUser
from app.models.appointment import Appointment, AppointmentStatus

MAX_DAYS_AWAY = 400


def status_labels() -> dict[str, str]:
    return {
        AppointmentStatus.BOOKED.value: _("Booked"),
        AppointmentStatus.ARRIVED.value: _("Arrived"),
        AppointmentStatus.CHECKED_IN.value: _("Checked in"),
        AppointmentStatus.NO_SHOW.value: _("No-show"),
        AppointmentStatus.CANCELLED.value: _("Cancelled"),
    }


def bring_labels() -> dict[str, str]:
    return {
        "service_book": _("Service book"),
        "key": _("Car key"),
        "wheel_lock_key": _("Wheel-lock key"),
    }


def channel_labels() -> dict[str, str]:
    return {
        "phone": _("Phone"),
        "desk": _("At the desk"),
        "reminder": _("Service reminder"),
        "api": _("Dealer system"),
        "return": _("Return visit"),
    }


def change_labels() -> dict[str, str]:
    return {
        "booked": _("Booked"),
        "moved": _("Moved"),
        "edited": _("Changed"),
        "cancelled": _("Cancelled"),
        "no_show": _("No-show"),
        "arrived": _("Arrived"),
        "checked_in": _("Checked in"),
        "confirmation_sent": _("Confirmation sent"),
        "reminder_sent": _("Reminder sent"),
    }


def source_labels() -> dict[str, str]:
    return {
        "menu": _("Menu package"),
        "concern": _("Customer's words"),
        "declined": _("Declined last time"),
        "manual": _("Catalogue"),
    }


def parse_day(raw: str, today: date, field: str = "day") -> date:
    """A `YYYY-MM-DD` from the query (today when empty), within reach of the calendar."""
    if not raw:
        return today
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Choose a day as YYYY-MM-DD."), field=field) from None
    if abs((day - today).days) > MAX_DAYS_AWAY:
        raise InvalidInput(_("Choose a day within a year of today."), field=field)
    return day


def day_pattern() -> str:
    """A short day with its weekday: 12月3日 周四, Thu 3 Dec."""
    return "M月d日 EEE" if get_locale().startswith("zh") else "EEE d MMM"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_input(moment: datetime, tz: ZoneInfo) -> str:
    """An aware time as the form's local wall time "YYYY-MM-DDTHH:MM"."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


async def off_grid(session: AsyncSession, tz: ZoneInfo, day: date) -> list[Appointment]:
    """The day's cancelled bookings and no-shows: they hold no slot any more."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    rows = await session.scalars(
        select(Appointment)
        .where(
            Appointment.scheduled_at >= start,
            Appointment.scheduled_at < start + timedelta(days=1),
            Appointment.status.in_((AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)),
        )
        .order_by(Appointment.scheduled_at, Appointment.id)
    )
    return list(rows.unique().all())


async def staff_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted))
    )
    return {int(i): str(name) for i, name in rows.all()}


async def messages(session: AsyncSession, appointment: Appointment) -> list[OutboundMessage]:
    """The messages the booking sent to its customer (confirmation, reminder): those to the
    customer's phone or e-mail since it was made."""
    customer = appointment.customer
    to = [r for r in (customer.phone, getattr(customer, "email", None)) if r]
    if not to:
        return []
    rows = await session.scalars(
        select(OutboundMessage)
        .where(
            or_(*(OutboundMessage.recipient == r for r in to)),
            OutboundMessage.created_at >= appointment.created_at,
            OutboundMessage.work_order_id.is_(None),
        )
        .order_by(OutboundMessage.created_at, OutboundMessage.id)
        .limit(20)
    )
    return list(rows.all())
