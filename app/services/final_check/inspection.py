"""The final inspection (终检) by the QC inspector: the final QC report.

Every applicable item must be ticked to pass; a pass makes the car ready for
delivery. A fail names a reason category and the jobs to redo, and sends
them back to their technicians as rework; the order's rework count goes up.
The inspector may not be anyone who worked on the car.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import CheckIn, Inspection, Job, JobTask, Role, WorkOrder, WorkOrderStatus
from app.services import audit, board_events, work_orders
from app.services.audit import Actor
from app.services.records import get_or_404
from app.services.workshop import jobs as workshop

ITEMS = (
    "jobs_done", "road_test", "no_warning_lights", "fluid_levels", "wheel_nuts",
    "tyre_pressures", "no_tools_left", "covers_removed", "washed_clean",
    "belongings_present", "old_parts_bagged", "odometer_fuel",
)  # fmt: skip
REASONS = ("diagnosis", "workmanship", "parts", "incomplete", "cleanliness", "damage", "other")
# Kilometres a car may gain in the dealership: in and out of the bay, or a road test.
YARD_KM = 5
ROAD_TEST_KM = 30
# Fuel the gauge may lose (in eighths) between check-in and delivery.
FUEL_DROP_EIGHTHS = 1


def item_labels() -> dict[str, str]:
    return {
        "jobs_done": _("Every job done and verified"),
        "road_test": _("Road test done"),
        "no_warning_lights": _("No warning lights on the dashboard"),
        "fluid_levels": _("Fluid levels correct"),
        "wheel_nuts": _("Wheel nuts torqued"),
        "tyre_pressures": _("Tyre pressures set"),
        "no_tools_left": _("No tools or rags left in the car"),
        "covers_removed": _("Protective covers removed"),
        "washed_clean": _("Car washed, clean inside and out"),
        "belongings_present": _("Belongings present as recorded at check-in"),
        "old_parts_bagged": _("Old parts bagged for the customer"),
        "odometer_fuel": _("Odometer and fuel consistent with check-in"),
    }


def reason_labels() -> dict[str, str]:
    return {
        "diagnosis": _("Diagnosis"),
        "workmanship": _("Workmanship"),
        "parts": _("Parts"),
        "incomplete": _("Job not complete"),
        "cleanliness": _("Cleanliness"),
        "damage": _("Damage to the car"),
        "other": _("Other"),
    }


@dataclass
class State:
    order: WorkOrder
    check_in: CheckIn | None
    tasks: list[tuple[JobTask, Job]]
    items: list[str]  # the items that apply to this order
    inspections: list[Inspection]

    @property
    def road_test(self) -> bool:
        return needs_road_test(self.order, self.check_in)

    @property
    def workers(self) -> set[int]:
        """Everyone who did or checked the work: none of them may inspect it."""
        ids: set[int] = set()
        for task, _job in self.tasks:
            ids |= workshop.worked_by(task)
            ids |= {i for i in (task.technician_id, task.mutual_checked_by_id) if i}
        return ids


def needs_road_test(order: WorkOrder, check_in: CheckIn | None) -> bool:
    """The consent the customer signed decides; the check-in answer only if none was signed."""
    if order.consent_road_test is not None:
        return order.consent_road_test
    return bool(check_in and check_in.road_test_consent)


def applicable(order: WorkOrder, check_in: CheckIn | None) -> list[str]:
    skip = set()
    if not needs_road_test(order, check_in):
        skip.add("road_test")
    if not order.consent_keep_old_parts:
        skip.add("old_parts_bagged")
    return [item for item in ITEMS if item not in skip]


async def state(session: AsyncSession, order_id: int) -> State:
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    check_in = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    inspections = (
        await session.scalars(
            select(Inspection).where(Inspection.work_order_id == order.id).order_by(Inspection.id)
        )
    ).all()
    return State(
        order,
        check_in,
        await workshop.order_tasks(session, order.id),
        applicable(order, check_in),
        list(inspections),
    )


def _reading(raw: str | None, field: str, message: str) -> int:
    try:
        value = int((raw or "").strip())
    except ValueError:
        raise InvalidInput(message, field=field) from None
    if value < 0:
        raise InvalidInput(message, field=field)
    return value


def odometer_fuel_problem(st: State, odometer_km: int, fuel_eighths: int) -> str | None:
    """Why the readings do not fit check-in plus a road test, or None if they do."""
    check_in = st.check_in
    if check_in is None or check_in.odometer_km is None:
        return None
    allowance = ROAD_TEST_KM if st.road_test else YARD_KM
    if odometer_km < check_in.odometer_km:
        return _(
            "The odometer reads less than at check-in (%(km)s km). Check the reading.",
            km=check_in.odometer_km,
        )
    if odometer_km > check_in.odometer_km + allowance:
        return _(
            "The car has done %(km)s km since check-in, more than the %(max)s km allowed.",
            km=odometer_km - check_in.odometer_km,
            max=allowance,
        )
    if check_in.fuel_eighths is not None and fuel_eighths < check_in.fuel_eighths - (
        FUEL_DROP_EIGHTHS
    ):
        return _("The fuel level is lower than at check-in. Check the gauge.")
    return None


def _readings(
    passed: bool, odometer_km: str | None, fuel_eighths: str | None
) -> tuple[int | None, int | None]:
    """The odometer and fuel read at the final check: required to pass."""
    if not passed and not (odometer_km or "").strip():
        return None, None
    odometer = _reading(odometer_km, "odometer_km", _("Enter the odometer reading in km."))
    fuel = _reading(fuel_eighths, "fuel_eighths", _("Enter the fuel level."))
    if fuel > 8:
        raise InvalidInput(_("Enter the fuel level."), field="fuel_eighths")
    return odometer, fuel


def _check_ticks(st: State, ticks: list[str]) -> None:
    missing = [item for item in st.items if item not in ticks]
    if missing:
        labels = item_labels()
        raise InvalidInput(
            _("Tick every item before passing: %(items)s.",
              items="; ".join(labels[i] for i in missing)),
            field="items",
        )  # fmt: skip


def _check_readings(st: State, odometer: int | None, fuel: int | None) -> None:
    problem = odometer_fuel_problem(st, odometer or 0, fuel or 0)
    if problem:
        raise InvalidInput(problem, field="odometer_km")


def _check_fail(
    st: State, reason_category: str | None, note: str, rework_job_ids: list[int]
) -> tuple[str, list[int]]:
    category = (reason_category or "").strip()
    if category not in REASONS:
        raise InvalidInput(_("Choose why the check failed."), field="reason_category")
    if not note:
        raise InvalidInput(_("Note what must be redone."), field="note")
    redo = sorted(set(rework_job_ids))
    if not redo or not set(redo) <= {job.id for _task, job in st.tasks}:
        raise InvalidInput(_("Choose the jobs to redo."), field="rework_job_ids")
    return category, redo


async def inspect(
    session: AsyncSession,
    order_id: int,
    *,
    passed: bool,
    ticked: list[str],
    odometer_km: str | None,
    fuel_eighths: str | None,
    reason_category: str | None,
    note: str | None,
    rework_job_ids: list[int],
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> Inspection:
    if not actor.has_role(Role.QC_INSPECTOR.value):
        raise Forbidden(_("The final check is done by the QC inspector."))
    st = await state(session, order_id)
    order = st.order
    if order.status != WorkOrderStatus.QC:
        raise Conflict(_("This car is not waiting for the final check."))
    if version is not None and version != order.version:
        raise Conflict(_("Someone else changed this work order. Reload to see the latest."))
    if actor.user_id in st.workers:
        raise Forbidden(
            _("You worked on this car. The final check is done by someone who did not.")
        )
    ticks = [item for item in ITEMS if item in set(ticked)]
    if passed:
        _check_ticks(st, ticks)  # the list first: it is what the inspector is looking at
    odometer, fuel = _readings(passed, odometer_km, fuel_eighths)
    text = " ".join((note or "").split())[:2000]
    category = ""
    redo: list[int] = []
    if passed:
        _check_readings(st, odometer, fuel)
    else:
        category, redo = _check_fail(st, reason_category, text, rework_job_ids)
    rounds = await session.scalar(
        select(func.count(Inspection.id)).where(Inspection.work_order_id == order.id)
    )
    inspection = Inspection(
        work_order_id=order.id,
        inspector_id=actor.user_id or 0,
        round=(rounds or 0) + 1,
        passed=passed,
        ticked=ticks,
        odometer_km=odometer,
        fuel_eighths=fuel,
        reason_category=category,
        note=text,
        rework_job_ids=redo,
        created_at=now,
    )
    session.add(inspection)
    if passed:
        work_orders.change_status(session, order, WorkOrderStatus.READY, actor)
    else:
        await workshop.send_back(session, order, redo, text)
        order.rework_count += 1
        work_orders.change_status(
            session, order, WorkOrderStatus.IN_PROGRESS, actor, rework=category
        )
    await session.flush()
    audit.record(
        session, actor, "final_check.passed" if passed else "final_check.failed",
        "work_order", order.id, inspection=inspection.id, round=inspection.round,
        reason=category, jobs=redo,
    )  # fmt: skip
    board_events.changed(session)
    return inspection


async def last_passed(session: AsyncSession, order_id: int) -> Inspection | None:
    last = await session.scalar(
        select(Inspection)
        .where(Inspection.work_order_id == order_id)
        .order_by(Inspection.id.desc())
        .limit(1)
    )
    return last if last is not None and last.passed else None
