"""Booking, moving, cancelling a visit and marking a no-show, each checked again on the
server (checks.py), written to the booking's history, audited and told to the dealer system
(webhook) and the customer (messages.py).

Two tablets booking the last slot at once: on PostgreSQL the dealership's row is locked
first, so bookings take turns; on SQLite writers already take turns (app.db.WriteTurns).
The unique `slot_key` is the backstop either way: the loser gets `SlotTaken` with the next
two free slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import (
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentJob,
    AppointmentLine,
    AppointmentSource,
    AppointmentStatus,
    Vehicle,
)
from app.services import audit
from app.services import dealership as dealership_service
from app.services.appointments import estimate, messages, slots
from app.services.appointments.checks import (
    ACTIVE_CHANNELS,
    MAX_REASON,
    AlreadyBooked,
    BookingInput,
    SlotTaken,
    advisor_for,
    check_details,
    check_odometer,
    check_time,
    check_workshop,
    lock_shop,
    offers_text,
    parse_start,
)
from app.services.audit import Actor
from app.services.outbound import webhooks
from app.settings import Settings

# The contract's names, importable from here as the other screens do.
__all__ = [
    "AlreadyBooked",
    "BookingInput",
    "SlotTaken",
    "book",
    "cancel",
    "history",
    "mark_no_show",
    "move",
]


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
    bring, notes, ref = check_details(data)
    estimate.check_jobs(data.jobs)
    shop = await lock_shop(session)
    rules = slots.rules_of(shop)
    check_time(at, now, rules, settings)
    vehicle = await session.get(Vehicle, data.vehicle_id)
    if vehicle is None:
        raise NotFound(_("No such vehicle."), field="vehicle_id")
    check_odometer(data.odometer_km, vehicle)
    if ref is not None:
        earlier = await session.scalar(select(Appointment).where(Appointment.external_ref == ref))
        if earlier is not None:
            raise AlreadyBooked(_("That reference is booked already."), earlier)
    rough = await estimate.rough(session, data.jobs)
    await estimate.check_recommendations(session, data.jobs, vehicle.id)
    advisor = await advisor_for(session, settings, at, data.advisor_id, rough.hours, rules, now)
    await check_workshop(session, settings, shop, at, rough.hours, rules)
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
    await _published(session, "appointment.booked", appointment)
    await messages.confirm(session, settings, appointment, now, by_label=by_label)
    return appointment


async def _published(session: AsyncSession, event: str, appointment: Appointment) -> None:
    """The change's webhook, queued in the same transaction as the change itself."""
    webhooks.enqueue(session, event, None, payload(appointment))
    await session.flush()


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
            + " " + offers_text(found, Formatter(settings.timezone, settings.currency)),
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
    shop = await lock_shop(session)
    rules = slots.rules_of(shop)
    appointment = await _standing(session, appointment_id, version, (AppointmentStatus.BOOKED,))
    check_time(at, now, rules, settings)
    if at == appointment.scheduled_at and advisor_id in (None, appointment.advisor_id):
        raise InvalidInput(_("Choose another time or advisor to move to."), field="starts_at")
    advisor = await advisor_for(
        session, settings, at, advisor_id, appointment.labour_hours, rules, now,
        prefer=appointment.advisor_id, leave_out=appointment.id,
    )  # fmt: skip
    await check_workshop(
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
            + " " + offers_text(found, Formatter(settings.timezone, settings.currency)),
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
    await _published(session, "appointment.moved", appointment)
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
    await _published(session, "appointment.cancelled", appointment)
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
    await _published(session, "appointment.no_show", appointment)
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
