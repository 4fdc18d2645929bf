"""What a booking must satisfy before it is written: the time (ahead, in opening hours, on
the slot grid, at most 180 days out), the details (channel, what to bring, notes, the
reference, the odometer), an advisor with the slot free and room that day, and the
workshop's day not overfilled. Each refusal names its field and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import Formatter, _
from app.models import (
    BRING_ITEMS,
    Appointment,
    AppointmentChannel,
    Dealership,
    StaffUser,
    Vehicle,
)
from app.services.appointments import slots
from app.services.appointments.estimate import JobInput
from app.services.appointments.slots import Slot
from app.settings import Settings

MAX_DAYS_AHEAD = 180
MAX_NOTES = 500
MAX_REASON = 500
MAX_EXTERNAL_REF = 64
MAX_ODOMETER_KM = 2_000_000
ACTIVE_CHANNELS = (AppointmentChannel.REMINDER.value, AppointmentChannel.RETURN.value)
CHANNELS = tuple(c.value for c in AppointmentChannel)


@dataclass
class BookingInput:
    vehicle_id: int
    advisor_id: int | None  # None: any advisor free at that time
    starts_at: str  # local wall time "YYYY-MM-DDTHH:MM" (form and API), or ISO with offset
    channel: str  # AppointmentChannel value
    jobs: list[JobInput]
    bring: list[str] = field(default_factory=list)
    notes: str = ""
    odometer_km: int | None = None
    external_ref: str | None = None


class SlotTaken(Conflict):
    """The slot (or every advisor at that time) is taken; `offers` are the next two free."""

    def __init__(self, message: str, offers: list[Slot], *, field: str | None = "starts_at"):
        super().__init__(message, field=field)
        self.offers = offers


class AlreadyBooked(Conflict):
    """The dealer system's reference was booked before: `appointment` is that booking
    (the API answers it again, so a retried POST books once)."""

    def __init__(self, message: str, appointment: Appointment) -> None:
        super().__init__(message, field="external_ref")
        self.appointment = appointment


# -- checks ----------------------------------------------------------------------


def parse_start(raw: str, settings: Settings) -> datetime:
    """The visit's start, aware UTC, from local wall time or an ISO time with an offset."""
    text = (raw or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or len(text) < len("YYYY-MM-DDTHH:MM"):
        raise InvalidInput(_("Enter the day and time of the visit."), field="starts_at")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.tz)
    return moment.astimezone(UTC)


def offers_text(offers: list[Slot], fmt: Formatter) -> str:
    if not offers:
        return _("No free slot in the next %(n)s days.", n=slots.LOOK_AHEAD_DAYS)
    return _("Next free: %(slots)s.", slots=_("; ").join(
        _("%(when)s with %(name)s", when=fmt.datetime(o.starts_at), name=o.advisor_name)
        for o in offers
    ))  # fmt: skip


def check_time(at: datetime, now: datetime, rules: slots.Rules, settings: Settings) -> None:
    local = at.astimezone(settings.tz)
    if at <= now:
        raise InvalidInput(_("That time has passed: choose a time ahead."), field="starts_at")
    if at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(_("Book at most %(n)s days ahead.", n=MAX_DAYS_AHEAD), field="starts_at")
    if not slots.in_hours(local, rules):
        raise InvalidInput(
            _("The workshop is open from %(opens)s to %(closes)s: choose a time in between.",
              opens=rules.opens.strftime("%H:%M"), closes=rules.closes.strftime("%H:%M")),
            field="starts_at",
        )  # fmt: skip
    if not slots.on_grid(local, rules):
        raise InvalidInput(
            _("Visits start every %(n)s minutes from opening: choose one of the slots.",
              n=rules.slot_minutes),
            field="starts_at",
        )  # fmt: skip


def check_details(data: BookingInput) -> tuple[str, str, str | None]:
    """(bring, notes, external_ref), checked."""
    if data.channel not in CHANNELS:
        raise InvalidInput(_("Choose how the booking came in."), field="channel")
    unknown = [b for b in data.bring if b not in BRING_ITEMS]
    if unknown:
        raise InvalidInput(_("Choose what to bring from the list."), field="bring")
    notes = data.notes.strip()
    if len(notes) > MAX_NOTES:
        raise InvalidInput(_("Notes are at most %(n)s characters.", n=MAX_NOTES), field="notes")
    if not data.jobs and not notes:
        raise InvalidInput(_("Say what the visit is for: add a job or write a note."), field="jobs")
    ref = (data.external_ref or "").strip() or None
    if ref is not None and len(ref) > MAX_EXTERNAL_REF:
        raise InvalidInput(
            _("The reference is at most %(n)s characters.", n=MAX_EXTERNAL_REF),
            field="external_ref",
        )
    if data.odometer_km is not None and not 0 <= data.odometer_km <= MAX_ODOMETER_KM:
        raise InvalidInput(
            _("%(km)s km is not a possible odometer reading.", km=data.odometer_km),
            field="odometer_km",
        )
    bring = ",".join(b for b in BRING_ITEMS if b in data.bring)
    return bring, notes, ref


def check_odometer(km: int | None, vehicle: Vehicle) -> None:
    last = vehicle.last_odometer_km
    if km is not None and last is not None and km < last:
        raise InvalidInput(
            _("%(km)s km is lower than the %(last)s km recorded at the last visit. "
              "Check the reading.", km=f"{km:,}", last=f"{last:,}"),
            field="odometer_km",
        )  # fmt: skip


async def lock_shop(session: AsyncSession) -> Dealership | None:
    """The dealership's row, locked on PostgreSQL until commit: bookings take turns."""
    return await session.scalar(
        select(Dealership).order_by(Dealership.id).limit(1).with_for_update()
    )


async def advisor_for(
    session: AsyncSession,
    settings: Settings,
    at: datetime,
    advisor_id: int | None,
    hours: Decimal,
    rules: slots.Rules,
    now: datetime,
    *,
    prefer: int | None = None,
    leave_out: int | None = None,
) -> StaffUser:
    """The advisor who takes the visit at `at`: the one asked for, if active with the slot
    free and room that day; else (None) the first active advisor who has both."""
    tz = settings.tz
    fmt = Formatter(settings.timezone, settings.currency)
    people = await slots.advisors(session, advisor_id)
    if advisor_id is not None and not people:
        raise InvalidInput(_("Choose an active service advisor."), field="advisor_id")
    day = at.astimezone(tz).date()
    start, end = slots.local_day_bounds(day, tz)
    booked = await slots.booked_between(session, start, end, tz, rules, leave_out=leave_out)
    people.sort(key=lambda p: p.id != prefer)  # the current advisor first, on a move

    async def offers(advisor: int | None) -> list[Slot]:
        return await slots.free_slots(
            session, settings, after=at, advisor_id=advisor, labour_hours=hours, now=now,
            leave_out=leave_out,
        )  # fmt: skip

    for person in people:
        if booked.cars[(person.id, day)] >= rules.capacity:
            continue
        if (person.id, at) in booked.taken:
            continue
        return person
    if advisor_id is not None:
        person = people[0]
        found = await offers(advisor_id)
        if (person.id, at) in booked.taken:
            raise SlotTaken(
                _("%(name)s is already booked at that time.", name=person.display_name)
                + " " + offers_text(found, fmt),
                found,
            )  # fmt: skip
        raise InvalidInput(
            _("%(name)s already has %(n)s visits booked that day, the most an advisor "
              "takes. Choose another advisor or day.",
              name=person.display_name, n=booked.cars[(person.id, day)])
            + " " + offers_text(found, fmt),
            field="advisor_id",
        )  # fmt: skip
    found = await offers(None)
    raise SlotTaken(
        _("No service advisor is free at that time.") + " " + offers_text(found, fmt), found
    )


async def check_workshop(
    session: AsyncSession,
    settings: Settings,
    shop: Dealership | None,
    at: datetime,
    hours: Decimal,
    rules: slots.Rules,
    *,
    leave_out: int | None = None,
) -> None:
    if hours <= 0:
        return
    capacity = await slots.workshop_hours(session, shop)
    if capacity is None:
        return
    day = at.astimezone(settings.tz).date()
    start, end = slots.local_day_bounds(day, settings.tz)
    booked = await slots.booked_between(
        session, start, end, settings.tz, rules, leave_out=leave_out
    )
    already = booked.hours[day]
    if already + hours > capacity:
        raise InvalidInput(
            _("The workshop has %(booked)s of its %(capacity)s hours booked that day; this "
              "visit needs %(hours)s more. Choose another day.",
              booked=already, capacity=capacity, hours=hours),
            field="starts_at",
        )  # fmt: skip
