"""A car's health check (健康车检) on one visit: started from the manager's checklist for
the car's type, saved item by item (each with its own version, like the check-in's fields,
so an offline queue or a second tablet never overwrites a newer answer), and completed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import _, get_locale
from app.models import (
    CheckIn,
    ChecklistItem,
    HealthCheck,
    HealthCheckResult,
    HealthColour,
    HealthGroup,
    JobTask,
    Photo,
    PhotoStage,
    Role,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit
from app.services.audit import Actor
from app.services.health_check import rules
from app.services.photos import receive as photos
from app.services.records import get_or_404

# The advisor's quick check at the car, the foreman's and the manager's: any open order.
DESK_ROLES = (Role.ADVISOR.value, Role.FOREMAN.value, Role.SERVICE_MANAGER.value)
# Once the car has passed the final check its state is what the QC report says.
OPEN_STATUSES = (
    WorkOrderStatus.CHECK_IN, WorkOrderStatus.ESTIMATE, WorkOrderStatus.SIGNED,
    WorkOrderStatus.IN_PROGRESS,
)  # fmt: skip
# Safety groups first, as the customer sees them.
GROUP_ORDER = (
    HealthGroup.TYRES, HealthGroup.BRAKES, HealthGroup.LIGHTS, HealthGroup.SUSPENSION,
    HealthGroup.FLUIDS, HealthGroup.BATTERY, HealthGroup.WIPERS, HealthGroup.BELTS,
    HealthGroup.LEAKS, HealthGroup.UNDERBODY, HealthGroup.EXHAUST,
)  # fmt: skip
MAX_PHOTOS_PER_ITEM = 6


def group_labels() -> dict[str, str]:
    return {
        HealthGroup.TYRES: _("Tyres"), HealthGroup.BRAKES: _("Brakes"),
        HealthGroup.FLUIDS: _("Fluids"), HealthGroup.BATTERY: _("Battery"),
        HealthGroup.LIGHTS: _("Lights"), HealthGroup.WIPERS: _("Wipers"),
        HealthGroup.BELTS: _("Belts"), HealthGroup.LEAKS: _("Leaks"),
        HealthGroup.UNDERBODY: _("Underbody"), HealthGroup.SUSPENSION: _("Suspension"),
        HealthGroup.EXHAUST: _("Exhaust"),
    }  # fmt: skip


def colour_labels() -> dict[str, str]:
    return {
        HealthColour.GREEN: _("OK"), HealthColour.YELLOW: _("Soon"),
        HealthColour.RED: _("Urgent"), HealthColour.NOT_CHECKED: _("Not checked"),
    }  # fmt: skip


def label(result: HealthCheckResult) -> str:
    return result.label_zh if get_locale().startswith("zh") else result.label_en


async def _may_work_on(session: AsyncSession, order: WorkOrder, actor: Actor) -> None:
    """A technician only on a car dispatched to them; the desk on any car."""
    if actor.has_role(*DESK_ROLES):
        return
    dispatched = await session.scalar(
        select(JobTask.id)
        .where(JobTask.work_order_id == order.id, JobTask.technician_id == actor.user_id)
        .limit(1)
    )
    if actor.user_id is None or dispatched is None:
        raise Forbidden(_("This car is not dispatched to you. Ask the foreman."))


async def may_read(session: AsyncSession, order: WorkOrder, actor: Actor) -> None:
    """QC reads the check (the final check looks at what was found); the rest as above."""
    if not actor.has_role(Role.QC_INSPECTOR.value):
        await _may_work_on(session, order, actor)


def _open(order: WorkOrder) -> None:
    if order.status not in OPEN_STATUSES:
        raise Conflict(_("This car has passed the final check: its health check is closed."))


async def of_order(session: AsyncSession, order_id: int) -> HealthCheck | None:
    return await session.scalar(select(HealthCheck).where(HealthCheck.work_order_id == order_id))


async def order_of(session: AsyncSession, check_id: int) -> int:
    found = await session.scalar(
        select(HealthCheck.work_order_id).where(HealthCheck.id == check_id)
    )
    if found is None:
        raise NotFound(_("That health check does not exist."))
    return found


async def results(session: AsyncSession, check_id: int) -> list[HealthCheckResult]:
    found = await session.scalars(
        select(HealthCheckResult)
        .where(HealthCheckResult.health_check_id == check_id)
        .order_by(HealthCheckResult.position, HealthCheckResult.id)
    )
    return list(found)


async def start(session: AsyncSession, order_id: int, actor: Actor) -> HealthCheck:
    """The order's check, made from the checklist of the car's type the first time."""
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    await _may_work_on(session, order, actor)
    existing = await of_order(session, order.id)
    if existing is not None:
        return existing  # a second tap, or a second tablet: the same check
    _open(order)
    vehicle = await session.get(Vehicle, order.vehicle_id)
    assert vehicle is not None  # noqa: S101  (foreign key)
    items = (
        await session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.vehicle_type == vehicle.vehicle_type, ChecklistItem.active)
            .order_by(ChecklistItem.position, ChecklistItem.id)
        )
    ).all()
    if not items:
        raise Conflict(_("The checklist for this type of vehicle is empty. Ask the service "
                         "manager."))  # fmt: skip
    km = await session.scalar(select(CheckIn.odometer_km).where(CheckIn.work_order_id == order.id))
    check = HealthCheck(
        work_order_id=order.id, vehicle_id=vehicle.id, vehicle_type=vehicle.vehicle_type,
        started_by_id=actor.user_id, odometer_km=km,
    )  # fmt: skip
    try:
        async with session.begin_nested():
            session.add(check)
            await session.flush()
            session.add_all(
                HealthCheckResult(
                    health_check_id=check.id,
                    item_id=item.id,
                    key=item.key,
                    group=item.group,
                    position=item.position,
                    label_zh=item.label_zh,
                    label_en=item.label_en,
                    safety=item.safety,
                    unit=item.unit,
                )
                for item in items
            )
    except IntegrityError:
        # Two tablets started it at once: the first one made it.
        again = await of_order(session, order.id)
        if again is None:
            raise
        return again
    audit.record(session, actor, "health_check.started", "work_order", order.id, items=len(items))
    return check


@dataclass(frozen=True)
class Saved:
    result: HealthCheckResult
    check: HealthCheck
    proposed: HealthColour | None


async def _result(
    session: AsyncSession, result_id: int
) -> tuple[HealthCheckResult, HealthCheck, WorkOrder]:
    result = await get_or_404(
        session, HealthCheckResult, result_id, _("That item of the health check does not exist.")
    )
    check = await session.get(HealthCheck, result.health_check_id)
    assert check is not None  # noqa: S101  (foreign key)
    order = await session.get(WorkOrder, check.work_order_id)
    assert order is not None  # noqa: S101
    return result, check, order


async def save_item(
    session: AsyncSession,
    result_id: int,
    *,
    colour: str | None,
    measurement: str | None,
    note: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> Saved:
    """One item's answer. Without a colour tapped, a measurement's proposed colour is it."""
    result, check, order = await _result(session, result_id)
    await _may_work_on(session, order, actor)
    _open(order)
    if check.completed_at is not None:
        raise Conflict(_("This health check is complete; it cannot be changed."))
    value = rules.parse_measurement(measurement)
    item = await session.get(ChecklistItem, result.item_id) if result.item_id else None
    limits = rules.Limits.of(item)
    note = (note or "").strip()[:500]
    if not colour and value is not None:
        chosen = rules.proposed(limits, value) or rules.parse_colour(colour)
    else:
        chosen = rules.parse_colour(colour)
    if version is not None and version != result.version:
        if (result.colour, result.measurement, result.note) == (chosen.value, value, note):
            # The tablet's copy of a save whose reply it lost: already saved, no change.
            return Saved(result, check, rules.proposed(limits, value))
        raise Conflict(_("Someone else changed this item. Reload to see the latest."))
    found = rules.judge(limits, result.unit, chosen, value, note)
    result.colour = chosen.value
    result.proposed_colour = found.value if found else None
    result.measurement = value
    result.note = note
    result.version += 1
    result.checked_at = now
    result.checked_by_id = actor.user_id
    audit.record(
        session, actor, "health_check.item_saved", "work_order", order.id,
        item=result.key, colour=chosen.value, measurement=str(value) if value is not None else None,
    )  # fmt: skip
    return Saved(result, check, found)


async def complete(
    session: AsyncSession, order_id: int, actor: Actor, now: datetime
) -> HealthCheck:
    check = await of_order(session, order_id)
    if check is None:
        raise NotFound(_("This car has no health check yet."))
    order = await session.get(WorkOrder, order_id)
    assert order is not None  # noqa: S101
    await _may_work_on(session, order, actor)
    _open(order)
    if check.completed_at is not None:
        return check  # a double tap
    found = await results(session, check.id)
    unchecked = [r for r in found if r.colour == HealthColour.NOT_CHECKED]
    if len(unchecked) == len(found):
        raise Conflict(_("Not a single item is checked yet."))
    check.completed_at = now
    check.completed_by_id = actor.user_id
    audit.record(session, actor, "health_check.completed", "work_order", order.id,
                 not_checked=len(unchecked))  # fmt: skip
    return check


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    results: list[HealthCheckResult]


def grouped(found: Sequence[HealthCheckResult]) -> list[Group]:
    """By group, safety groups first; within a group, the checklist's order."""
    labels = group_labels()
    order = {g.value: i for i, g in enumerate(GROUP_ORDER)}
    keys = sorted({r.group for r in found}, key=lambda g: (order.get(g, len(order)), g))
    return [Group(k, labels.get(k, k), [r for r in found if r.group == k]) for k in keys]


def counts(found: Sequence[HealthCheckResult]) -> dict[str, int]:
    tally = {c.value: 0 for c in rules.COLOURS}
    for r in found:
        tally[r.colour] = tally.get(r.colour, 0) + 1
    return tally


async def photos_by_result(session: AsyncSession, check_id: int) -> dict[int, list[Photo]]:
    rows = await session.scalars(
        select(Photo)
        .join(HealthCheckResult, HealthCheckResult.id == Photo.health_check_result_id)
        .where(HealthCheckResult.health_check_id == check_id)
        .order_by(Photo.id)
    )
    found: dict[int, list[Photo]] = {}
    for photo in rows:
        found.setdefault(photo.health_check_result_id or 0, []).append(photo)
    return found


async def photo_target(
    session: AsyncSession, result_id: int, actor: Actor
) -> tuple[CheckIn, photos.Target]:
    """Where an item's photo goes: the check-in of the car, while the check is open."""
    result, check, order = await _result(session, result_id)
    await _may_work_on(session, order, actor)
    _open(order)
    if check.completed_at is not None:
        raise Conflict(_("This health check is complete; it cannot be changed."))
    taken = await session.scalar(
        select(func.count(Photo.id)).where(Photo.health_check_result_id == result.id)
    )
    if (taken or 0) >= MAX_PHOTOS_PER_ITEM:
        raise InvalidInput(_("This item already has %(n)s photos.", n=MAX_PHOTOS_PER_ITEM))
    check_in = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    if check_in is None:
        raise NotFound(_("This work order has no check-in record."))
    return check_in, photos.Target(stage=PhotoStage.HEALTH_CHECK, health_check_result_id=result.id)


def measured(value: Decimal | None) -> str:
    return rules.plain(value) if value is not None else ""
