"""Starting, saving and moving through a check-in.

Every change goes through `bump_version`, a compare-and-set on the check-in's
version, so two tablets editing one check-in never overwrite each other
silently: the second gets a Conflict and reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import Conflict, InvalidInput
from app.i18n import _, get_locale
from app.models import (
    REQUIRED_COVERS,
    STEPS,
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentStatus,
    CheckIn,
    CoverInstall,
    CoverKind,
    Step,
    StepTiming,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import audit, board_events, work_orders
from app.services.appointments import prefill
from app.services.audit import Actor
from app.services.estimate import editing
from app.services.records import get_or_404


async def get(session: AsyncSession, check_in_id: int) -> CheckIn:
    return await get_or_404(session, CheckIn, check_in_id, _("This check-in does not exist."))


async def bump_version(session: AsyncSession, check_in: CheckIn, expected: int | None) -> None:
    """Claim the next version, or fail if another tablet saved first."""
    if expected is None:
        raise InvalidInput(_("This form is missing its version. Reload the page."))
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in.id, CheckIn.version == expected)
        .values(version=CheckIn.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            _(
                "Another tablet changed this check-in a moment ago. "
                "Reload to see its changes; what you just entered was not saved."
            )
        )
    # What the UPDATE above wrote: set as loaded, so the flush does not write it again.
    set_committed_value(check_in, "version", expected + 1)
    await session.flush()


async def _next_work_order_number(session: AsyncSession, now: datetime) -> str:
    prefix = f"WO{now:%Y%m%d}-"
    count = await session.scalar(
        select(func.count(WorkOrder.id)).where(WorkOrder.number.startswith(prefix))
    )
    return f"{prefix}{(count or 0) + 1:04d}"


async def _open(
    session: AsyncSession,
    vehicle: Vehicle,
    actor: Actor,
    arrived_at: datetime,
    appointment: Appointment | None,
    tz: ZoneInfo | None = None,
) -> CheckIn:
    now = utcnow()
    order = WorkOrder(
        number=await _next_work_order_number(session, now),
        status=WorkOrderStatus.CHECK_IN,
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        advisor_id=actor.user_id,
        appointment_id=appointment.id if appointment else None,
    )
    session.add(order)
    await session.flush()
    check_in = CheckIn(
        work_order=order,
        advisor_id=actor.user_id,
        arrived_at=arrived_at,
        started_at=now,
        contact_phone=vehicle.customer.phone,
        follow_up_phone=vehicle.customer.phone,
        timings=[StepTiming(step=Step.GREETING.value, started_at=now)],
        concerns=[],  # loaded (empty): the booking's concerns are appended after the flush
    )
    session.add(check_in)
    await session.flush()
    if appointment is not None:
        # The booked jobs, priced, so the customer only confirms and signs (预约客户只需确认).
        await prefill.apply(
            session, appointment, check_in, order, now.astimezone(tz or UTC).date(), get_locale()
        )
    board_events.changed(session)  # an arrival and its greeting: the 看板 counts them
    audit.record(
        session,
        actor,
        "check_in_started",
        "check_in",
        check_in.id,
        work_order=order.number,
        appointment=appointment.id if appointment else None,
    )
    return check_in


async def start_from_appointment(
    session: AsyncSession, appointment_id: int, actor: Actor, tz: ZoneInfo | None = None
) -> CheckIn:
    """The booked car's check-in, its order pre-filled from the booking (priced at the
    catalogue of the dealership's day `tz`). A cancelled or no-show booking is refused and
    nothing changes."""
    appt = await get_or_404(
        session, Appointment, appointment_id, _("This appointment does not exist.")
    )
    existing = await _for_appointment(session, appt.id)
    if existing is not None:
        return existing  # a double tap, or a second tablet: resume, never duplicate
    if appt.status == AppointmentStatus.CANCELLED:
        raise Conflict(_("This appointment was cancelled: it cannot be checked in."))
    if appt.status == AppointmentStatus.NO_SHOW:
        raise Conflict(
            _("This appointment was marked as a no-show: check the car in as a walk-in.")
        )
    if appt.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
        raise Conflict(_("This appointment cannot be checked in any more."))
    now = utcnow()
    arrived_at = appt.arrived_at or now
    appt.arrived_at = arrived_at
    appt.status = AppointmentStatus.CHECKED_IN
    appt.slot_key = None  # the car is here: its slot no longer holds a place
    appt.version += 1
    session.add(
        AppointmentChange(
            appointment_id=appt.id,
            kind=AppointmentChangeKind.CHECKED_IN.value,
            at=now,
            by_id=actor.user_id,
        )
    )
    return await _open(session, appt.vehicle, actor, arrived_at, appt, tz)


async def _for_appointment(session: AsyncSession, appointment_id: int) -> CheckIn | None:
    return (
        await session.scalars(
            select(CheckIn).join(WorkOrder).where(WorkOrder.appointment_id == appointment_id)
        )
    ).first()


async def start_walk_in(session: AsyncSession, vehicle_id: int, actor: Actor) -> CheckIn:
    vehicle = await get_or_404(session, Vehicle, vehicle_id, _("This vehicle does not exist."))
    open_check_in = (
        await session.scalars(
            select(CheckIn)
            .join(WorkOrder)
            .where(WorkOrder.vehicle_id == vehicle.id, WorkOrder.status == WorkOrderStatus.CHECK_IN)
        )
    ).first()
    if open_check_in is not None:
        return open_check_in
    return await _open(session, vehicle, actor, utcnow(), None)


async def enter_step(session: AsyncSession, check_in: CheckIn, step: Step) -> None:
    """Record when work on a step began (for the check-in's duration): when the
    step before it is done, or at the first change saved in it. Never on a GET."""
    if any(t.step == step.value for t in check_in.timings):
        return
    check_in.timings.append(StepTiming(step=step.value, started_at=utcnow()))
    await session.flush()


def step_problems(check_in: CheckIn, step: Step) -> list[str]:
    """What still stops this step from being done, in the user's language."""
    problems: list[str] = []
    if step == Step.GREETING:
        if not check_in.contact_confirmed:
            problems.append(_("Confirm the customer's contact number."))
        if check_in.follow_up_accepted is None:
            problems.append(_("Ask whether the customer accepts a follow-up call."))
    elif step == Step.COVERS:
        installed = {c.kind for c in check_in.covers}
        missing = [k for k in REQUIRED_COVERS if k.value not in installed]
        if missing and not check_in.covers_skip_reason.strip():
            problems.append(
                _("Install every cover in front of the customer, or write down why one is missing.")
            )
    elif step == Step.WALKAROUND:
        if check_in.odometer_km is None:
            problems.append(_("Enter the odometer reading."))
        if check_in.fuel_eighths is None:
            problems.append(_("Tap the fuel level."))
    elif step == Step.SYMPTOMS:
        if not check_in.concerns:
            problems.append(_("Add at least one concern in the customer's words."))
        if check_in.road_test_consent is None:
            problems.append(_("Ask whether the customer consents to a road test."))
        if check_in.summary_confirmed_at is None:
            problems.append(_("Read the summary back and let the customer confirm it."))
    return problems


async def finish_step(
    session: AsyncSession, check_in: CheckIn, step: Step, version: int | None, actor: Actor
) -> Step | None:
    """Close `step` and open the next; None when the check-in is complete.

    Steps may be visited in any order, but the last one completes the check-in
    only when every step is done."""
    last = STEPS.index(step) == len(STEPS) - 1
    problems = [p for s in (STEPS if last else (step,)) for p in step_problems(check_in, s)]
    if problems:
        raise InvalidInput(" ".join(problems))
    await bump_version(session, check_in, version)
    now = utcnow()
    for timing in check_in.timings:
        if timing.step == step.value and timing.ended_at is None:
            timing.ended_at = now
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        following = STEPS[index + 1]
        check_in.step = following.value
        await enter_step(session, check_in, following)
        audit.record(session, actor, "check_in_step_done", "check_in", check_in.id, step=step.value)
        return following
    check_in.completed_at = now
    board_events.changed(session)  # the check-in's time, on the 看板
    work_orders.change_status(session, check_in.work_order, WorkOrderStatus.ESTIMATE, actor)
    await session.flush()
    # The estimate opens here, on the POST that completes the check-in.
    await editing.start(session, check_in.work_order, actor)
    vehicle = await session.get(Vehicle, check_in.work_order.vehicle_id)
    if vehicle is not None and check_in.odometer_km is not None:
        vehicle.last_odometer_km = check_in.odometer_km
        vehicle.last_odometer_at = now
    audit.record(
        session,
        actor,
        "check_in_completed",
        "check_in",
        check_in.id,
        minutes=round((now - check_in.started_at).total_seconds() / 60, 1),
    )
    await session.flush()
    return None


async def toggle_cover(
    session: AsyncSession, check_in: CheckIn, kind: str, version: int | None, actor: Actor
) -> None:
    if kind not in set(CoverKind):
        raise InvalidInput(_("Unknown cover."))
    await bump_version(session, check_in, version)
    existing = next((c for c in check_in.covers if c.kind == kind), None)
    if existing is not None:
        check_in.covers.remove(existing)
        audit.record(session, actor, "cover_removed", "check_in", check_in.id, kind=kind)
    else:
        check_in.covers.append(CoverInstall(kind=kind, installed_by_id=actor.user_id))
        audit.record(session, actor, "cover_installed", "check_in", check_in.id, kind=kind)
    await session.flush()


@dataclass(frozen=True)
class Duration:
    greeting_wait_minutes: float  # arrival to the advisor starting the check-in
    total_minutes: float | None  # the check-in itself, once complete


def duration(check_in: CheckIn) -> Duration:
    wait = (check_in.started_at - check_in.arrived_at).total_seconds() / 60
    total = None
    if check_in.completed_at:
        total = (check_in.completed_at - check_in.started_at).total_seconds() / 60
    return Duration(round(max(wait, 0.0), 1), round(total, 1) if total is not None else None)
