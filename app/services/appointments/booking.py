"""Booking, moving, cancelling a visit and marking a no-show, each checked again on the
server, written to the booking's history, audited and told to the dealer system (webhook).

Two tablets booking the last slot at once: on PostgreSQL the dealership's row is locked
first, so bookings take turns; on SQLite writers already take turns (app.db.WriteTurns).
The unique `slot_key` is the backstop either way: the loser gets `SlotTaken` with the next
two free slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import (
    BRING_ITEMS,
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentChannel,
    AppointmentJob,
    AppointmentLine,
    AppointmentSource,
    AppointmentStatus,
    Dealership,
    StaffUser,
    Vehicle,
)
from app.services import audit
from app.services import dealership as dealership_service
from app.services.appointments import estimate, messages, slots
from app.services.appointments.estimate import JobInput
from app.services.appointments.slots import Slot
from app.services.audit import Actor
from app.services.outbound import webhooks
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


def _offers_text(offers: list[Slot], fmt: Formatter) -> str:
    if not offers:
        return _("No free slot in the next %(n)s days.", n=slots.LOOK_AHEAD_DAYS)
    return _("Next free: %(slots)s.", slots=_("; ").join(
        _("%(when)s with %(name)s", when=fmt.datetime(o.starts_at), name=o.advisor_name)
        for o in offers
    ))  # fmt: skip


def _check_time(at: datetime, now: datetime, rules: slots.Rules, settings: Settings) -> None:
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


def _check_details(data: BookingInput) -> tuple[str, str, str | None]:
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


def _check_odometer(km: int | None, vehicle: Vehicle) -> None:
    last = vehicle.last_odometer_km
    if km is not None and last is not None and km < last:
        raise InvalidInput(
            _("%(km)s km is lower than the %(last)s km recorded at the last visit. "
              "Check the reading.", km=f"{km:,}", last=f"{last:,}"),
            field="odometer_km",
        )  # fmt: skip


async def _lock_shop(session: AsyncSession) -> Dealership | None:
    """The dealership's row, locked on PostgreSQL until commit: bookings take turns."""
    return await session.scalar(
        select(Dealership).order_by(Dealership.id).limit(1).with_for_update()
    )


async def _advisor_for(
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
                + " " + _offers_text(found, fmt),
                found,
            )  # fmt: skip
        raise InvalidInput(
            _("%(name)s already has %(n)s visits booked that day, the most an advisor "
              "takes. Choose another advisor or day.",
              name=person.display_name, n=booked.cars[(person.id, day)])
            + " " + _offers_text(found, fmt),
            field="advisor_id",
        )  # fmt: skip
    found = await offers(None)
    raise SlotTaken(
        _("No service advisor is free at that time.") + " " + _offers_text(found, fmt), found
    )


async def _check_workshop(
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


# -- the record of a change ----------------------------------------------------


def slot_key(advisor_id: int, at: datetime) -> str:
    return f"{advisor_id}@{at.astimezone(UTC):%Y%m%dT%H%M}"


def payload(appointment: Appointment) -> dict[str, Any]:
    """What the dealer system hears of a booking (stable: add keys, never rename)."""
    vehicle = appointment.vehicle
    advisor = appointment.advisor
    return {
        "appointment_id": appointment.id,
        "status": appointment.status.value,
        "starts_at": appointment.scheduled_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "vehicle": {"vin": vehicle.vin, "plate": vehicle.plate} if vehicle else None,
        "advisor": {"id": advisor.id, "name": advisor.display_name} if advisor else None,
        "external_ref": appointment.external_ref,
        "jobs": [j.title for j in appointment.jobs],
        "version": appointment.version,
    }


def _history(
    session: AsyncSession,
    appointment: Appointment,
    kind: AppointmentChangeKind,
    actor: Actor,
    now: datetime,
    by_label: str,
    **values: Any,
) -> AppointmentChange:
    change = AppointmentChange(
        appointment_id=appointment.id, kind=kind.value, at=now, by_id=actor.user_id,
        by_label=by_label[:80], **values,
    )  # fmt: skip
    session.add(change)
    return change


async def _reload(session: AsyncSession, appointment_id: int) -> Appointment:
    """The booking with its car, customer, advisor and jobs loaded afresh."""
    found = await session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(_("No such appointment."))
    return found


# -- booking ---------------------------------------------------------------------


async def book(
    session: AsyncSession,
    settings: Settings,
    data: BookingInput,
    actor: Actor,
    now: datetime,
    by_label: str = "",
) -> Appointment:
    """A booking at a free slot, or a refusal that changes nothing."""
    at = parse_start(data.starts_at, settings)
    bring, notes, ref = _check_details(data)
    estimate.check_jobs(data.jobs)
    shop = await _lock_shop(session)
    rules = slots.rules_of(shop)
    _check_time(at, now, rules, settings)
    vehicle = await session.get(Vehicle, data.vehicle_id)
    if vehicle is None:
        raise NotFound(_("No such vehicle."), field="vehicle_id")
    _check_odometer(data.odometer_km, vehicle)
    if ref is not None:
        earlier = await session.scalar(select(Appointment).where(Appointment.external_ref == ref))
        if earlier is not None:
            raise AlreadyBooked(_("That reference is booked already."), earlier)
    rough = await estimate.rough(session, data.jobs)
    await estimate.check_recommendations(session, data.jobs, vehicle.id)
    advisor = await _advisor_for(session, settings, at, data.advisor_id, rough.hours, rules, now)
    await _check_workshop(session, settings, shop, at, rough.hours, rules)
    appointment = Appointment(
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        advisor_id=advisor.id,
        scheduled_at=at,
        requested_work="; ".join(j.title.strip() for j in data.jobs if j.title.strip())[:2000]
        or notes,
        source=AppointmentSource.ACTIVE
        if data.channel in ACTIVE_CHANNELS
        else AppointmentSource.PASSIVE,
        status=AppointmentStatus.BOOKED,
        notes=notes,
        channel=data.channel,
        version=1,
        slot_key=slot_key(advisor.id, at),
        labour_hours=rough.hours,
        estimate_amount=rough.amount,
        bring=bring,
        odometer_km=data.odometer_km,
        created_by_id=actor.user_id,
        external_ref=ref,
        jobs=[
            AppointmentJob(
                position=n,
                source=r.job.source,
                title=r.job.title.strip(),
                menu_package_id=r.job.menu_package_id,
                recommendation_id=r.job.recommendation_id,
                customer_words=r.job.customer_words.strip(),
                labour_hours=r.hours,
                amount=r.amount,
                lines=[
                    AppointmentLine(
                        kind=kind,
                        labour_operation_id=item if kind == "labour" else None,
                        part_id=item if kind == "part" else None,
                        quantity=quantity,
                    )
                    for kind, item, quantity in r.job.lines
                ],
            )
            for n, r in enumerate(rough.jobs)
        ],
    )
    await _insert(session, settings, appointment, at, advisor.id, rough.hours, now, ref)
    appointment = await _reload(session, appointment.id)
    _history(
        session, appointment, AppointmentChangeKind.BOOKED, actor, now, by_label,
        to_at=at, to_advisor_id=advisor.id,
    )  # fmt: skip
    audit.record(
        session, actor, "appointment.booked", "appointment", appointment.id,
        vehicle=vehicle.id, advisor=advisor.id, at=at.isoformat(), channel=data.channel,
    )  # fmt: skip
    webhooks.enqueue(session, "appointment.booked", None, payload(appointment))
    await session.flush()
    await messages.confirm(session, settings, appointment, now, by_label=by_label)
    return appointment


async def _insert(
    session: AsyncSession,
    settings: Settings,
    appointment: Appointment,
    at: datetime,
    advisor_id: int,
    hours: Decimal,
    now: datetime,
    ref: str | None,
) -> None:
    """Write the booking in a savepoint: a slot another booking took meanwhile (the unique
    slot key) or a reference booked meanwhile is a refusal, not an error."""
    try:
        async with session.begin_nested():
            session.add(appointment)
            await session.flush()
    except IntegrityError:
        session.expunge(appointment) if appointment in session else None
        if ref is not None:
            earlier = await session.scalar(
                select(Appointment).where(Appointment.external_ref == ref)
            )
            if earlier is not None:
                raise AlreadyBooked(_("That reference is booked already."), earlier) from None
        found = await slots.free_slots(
            session, settings, after=at, advisor_id=None, labour_hours=hours, now=now
        )
        raise SlotTaken(
            _("That slot was booked a moment ago.")
            + " " + _offers_text(found, Formatter(settings.timezone, settings.currency)),
            found,
        ) from None  # fmt: skip


async def _standing(
    session: AsyncSession, appointment_id: int, version: int | None, allowed: tuple[str, ...]
) -> Appointment:
    appointment = await session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update(of=Appointment)
        .execution_options(populate_existing=True)
    )
    if appointment is None:
        raise NotFound(_("No such appointment."))
    if version is not None and version != appointment.version:
        raise Conflict(_("Someone else changed this booking meanwhile. Reload it and try again."))
    if appointment.status.value not in allowed:
        raise Conflict(
            {
                AppointmentStatus.CANCELLED: _("This booking was cancelled."),
                AppointmentStatus.NO_SHOW: _("This booking was marked as a no-show."),
                AppointmentStatus.CHECKED_IN: _("This car is checked in already."),
                AppointmentStatus.ARRIVED: _("This car has arrived: check it in instead."),
            }.get(appointment.status, _("This booking cannot be changed now."))
        )
    return appointment


async def move(
    session: AsyncSession,
    settings: Settings,
    appointment_id: int,
    version: int | None,
    starts_at: str,
    advisor_id: int | None,
    reason: str,
    actor: Actor,
    now: datetime,
    by_label: str = "",
) -> Appointment:
    """The booking at another time and/or advisor (None: any advisor free then, the current
    one first), checked like a new booking; the history keeps where it was."""
    at = parse_start(starts_at, settings)
    why = reason.strip()
    if len(why) > MAX_REASON:
        raise InvalidInput(
            _("The reason is at most %(n)s characters.", n=MAX_REASON), field="reason"
        )
    shop = await _lock_shop(session)
    rules = slots.rules_of(shop)
    appointment = await _standing(session, appointment_id, version, (AppointmentStatus.BOOKED,))
    _check_time(at, now, rules, settings)
    if at == appointment.scheduled_at and advisor_id in (None, appointment.advisor_id):
        raise InvalidInput(_("Choose another time or advisor to move to."), field="starts_at")
    advisor = await _advisor_for(
        session, settings, at, advisor_id, appointment.labour_hours, rules, now,
        prefer=appointment.advisor_id, leave_out=appointment.id,
    )  # fmt: skip
    await _check_workshop(
        session, settings, shop, at, appointment.labour_hours, rules, leave_out=appointment.id
    )
    was_at, was_advisor = appointment.scheduled_at, appointment.advisor_id
    try:
        async with session.begin_nested():
            appointment.scheduled_at = at
            appointment.advisor_id = advisor.id
            appointment.slot_key = slot_key(advisor.id, at)
            appointment.version += 1
            await session.flush()
    except IntegrityError:
        found = await slots.free_slots(
            session, settings, after=at, advisor_id=None,
            labour_hours=appointment.labour_hours, now=now, leave_out=appointment_id,
        )  # fmt: skip
        raise SlotTaken(
            _("That slot was booked a moment ago.")
            + " " + _offers_text(found, Formatter(settings.timezone, settings.currency)),
            found,
        ) from None  # fmt: skip
    appointment = await _reload(session, appointment.id)
    _history(
        session, appointment, AppointmentChangeKind.MOVED, actor, now, by_label,
        from_at=was_at, to_at=at, from_advisor_id=was_advisor, to_advisor_id=advisor.id,
        reason=why,
    )  # fmt: skip
    audit.record(
        session, actor, "appointment.moved", "appointment", appointment.id,
        from_at=was_at.isoformat(), at=at.isoformat(), advisor=advisor.id, reason=why,
    )  # fmt: skip
    webhooks.enqueue(session, "appointment.moved", None, payload(appointment))
    await session.flush()
    await messages.confirm(session, settings, appointment, now, by_label=by_label)
    return appointment


async def cancel(
    session: AsyncSession,
    appointment_id: int,
    version: int | None,
    reason: str,
    actor: Actor,
    now: datetime,
    by_label: str = "",
    settings: Settings | None = None,
) -> Appointment:
    """The booking cancelled (booked or arrived), its slot free again; the customer is told
    when `settings` is given (the notice needs the dealership's time zone)."""
    why = reason.strip()
    if len(why) > MAX_REASON:
        raise InvalidInput(
            _("The reason is at most %(n)s characters.", n=MAX_REASON), field="reason"
        )
    appointment = await _standing(
        session, appointment_id, version, (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
    )
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = why
    appointment.slot_key = None
    appointment.version += 1
    _history(
        session, appointment, AppointmentChangeKind.CANCELLED, actor, now, by_label,
        from_at=appointment.scheduled_at, from_advisor_id=appointment.advisor_id, reason=why,
    )  # fmt: skip
    audit.record(session, actor, "appointment.cancelled", "appointment", appointment.id, reason=why)
    webhooks.enqueue(session, "appointment.cancelled", None, payload(appointment))
    await session.flush()
    if settings is not None:
        await messages.cancelled(session, settings, appointment, now, by_label=by_label)
    return appointment


async def mark_no_show(
    session: AsyncSession, settings: Settings, appointment_id: int, actor: Actor, now: datetime
) -> Appointment:
    """Marked once the lane board's no-show rule holds: `no_show_minutes` past its time and
    the car not arrived. The slot is free again; the no-show counts on the day."""
    shop = await dealership_service.current(session)
    minutes = shop.no_show_minutes if shop else 60
    appointment = await _standing(session, appointment_id, None, (AppointmentStatus.BOOKED,))
    if appointment.scheduled_at + timedelta(minutes=minutes) > now:
        raise Conflict(
            _("A booking is a no-show %(n)s minutes after its time, not before.", n=minutes)
        )
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.no_show_at = now
    appointment.slot_key = None
    appointment.version += 1
    _history(
        session, appointment, AppointmentChangeKind.NO_SHOW, actor, now, "",
        from_at=appointment.scheduled_at, from_advisor_id=appointment.advisor_id,
    )  # fmt: skip
    audit.record(session, actor, "appointment.no_show", "appointment", appointment.id)
    webhooks.enqueue(session, "appointment.no_show", None, payload(appointment))
    await session.flush()
    return appointment


async def history(session: AsyncSession, appointment_id: int) -> list[AppointmentChange]:
    """The booking's changes, oldest first."""
    if (
        await session.scalar(
            select(func.count(Appointment.id)).where(Appointment.id == appointment_id)
        )
        == 0
    ):
        raise NotFound(_("No such appointment."))
    return list(
        (
            await session.scalars(
                select(AppointmentChange)
                .where(AppointmentChange.appointment_id == appointment_id)
                .order_by(AppointmentChange.at, AppointmentChange.id)
            )
        ).all()
    )
