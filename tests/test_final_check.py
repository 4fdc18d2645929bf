"""The final inspection (终检) through its service: who may inspect, what a
pass requires, what a fail must say, and what a fail sends back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo_data
from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import (
    CheckIn,
    Inspection,
    Job,
    Role,
    TaskStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.final_check import inspection as final_check
from tests.estimate_helpers import order
from tests.workshop_helpers import (
    actor,
    check_in_of,
    dispatch_all,
    in_qc,
    ready,
    refused,
    signed_order_with,
    tasks,
    work_done,
)

WORKED_ON_IT = "You worked on this car. The final check is done by someone who did not."


async def inspect(
    db: AsyncSession,
    users: dict[Role, int],
    order_id: int,
    *,
    who: Actor | None = None,
    version: int | None = None,
    **given: Any,
) -> Inspection:
    """The final check as the QC inspector submits it; by default a full pass
    with readings that fit check-in plus a short drive."""
    check_in = await check_in_of(db, order_id)
    st = await final_check.state(db, order_id)
    fields: dict[str, Any] = {
        "passed": True,
        "ticked": list(st.items),
        "odometer_km": str((check_in.odometer_km or 0) + 3),
        "fuel_eighths": str(check_in.fuel_eighths),
        "reason_category": None,
        "note": None,
        "rework_job_ids": [],
    } | given
    return await final_check.inspect(
        db, order_id, **fields, actor=who or actor(users, Role.QC_INSPECTOR), now=utcnow(),
        version=version,
    )  # fmt: skip


def both(users: dict[Role, int], user_role: Role) -> Actor:
    """A staff user who also holds the QC inspector's role."""
    return Actor(users[user_role], roles=frozenset({user_role.value, Role.QC_INSPECTOR.value}))


async def test_whoever_worked_on_the_car_may_not_inspect_it(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)  # the foreman did the mutual checks
    for worker in (Role.TECHNICIAN, Role.FOREMAN):
        await refused(
            db, order_id, Forbidden,
            lambda worker=worker: inspect(db, users, order_id, who=both(users, worker)),
            _(WORKED_ON_IT),
        )  # fmt: skip
    # Someone else with the same roles may.
    await inspect(db, users, order_id, who=both(users, Role.ADVISOR))
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.READY


async def test_only_the_qc_inspector_does_the_final_check(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    for role in (Role.ADVISOR, Role.TECHNICIAN, Role.FOREMAN, Role.SERVICE_MANAGER):
        await refused(
            db, order_id, Forbidden,
            lambda role=role: inspect(db, users, order_id, who=actor(users, role)),
            _("The final check is done by the QC inspector."),
        )  # fmt: skip


async def test_passing_with_an_unticked_item_names_that_item(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    st = await final_check.state(db, order_id)
    assert "fluid_levels" in st.items
    ticked = [item for item in st.items if item != "fluid_levels"]
    labels = final_check.item_labels()
    found = await refused(
        db, order_id, InvalidInput,
        lambda: inspect(db, users, order_id, ticked=ticked),
        _("Tick every item before passing: %(items)s.", items=labels["fluid_levels"]),
        field="items",
    )  # fmt: skip
    assert labels["fluid_levels"] in found.message
    assert not any(labels[item] in found.message for item in ticked)


def test_the_road_test_and_the_old_parts_apply_only_with_the_customers_consent() -> None:
    def items(order: WorkOrder, check_in: CheckIn | None) -> set[str]:
        return set(final_check.applicable(order, check_in))

    none = WorkOrder(consent_road_test=False, consent_keep_old_parts=False)
    assert {"road_test", "old_parts_bagged"}.isdisjoint(items(none, CheckIn()))
    assert {"road_test", "old_parts_bagged"}.isdisjoint(items(none, None))
    assert items(none, None) == set(final_check.ITEMS) - {"road_test", "old_parts_bagged"}

    road = WorkOrder(consent_road_test=True, consent_keep_old_parts=False)
    assert "road_test" in items(road, None)
    assert "old_parts_bagged" not in items(road, None)
    # Not asked again when estimating: the check-in answer stands.
    asked_at_check_in = WorkOrder(consent_road_test=None, consent_keep_old_parts=True)
    assert {"road_test", "old_parts_bagged"} <= items(
        asked_at_check_in, CheckIn(road_test_consent=True)
    )
    assert "road_test" not in items(asked_at_check_in, CheckIn(road_test_consent=False))


def test_a_road_test_the_customer_declined_when_signing_is_not_required() -> None:
    """The consent signed with the order is the customer's last word: a yes at
    check-in that became a no on the signed order means no road test."""
    declined = WorkOrder(consent_road_test=False, consent_keep_old_parts=False)
    said_yes_at_check_in = CheckIn(road_test_consent=True, odometer_km=10_000)
    assert "road_test" not in final_check.applicable(declined, said_yes_at_check_in)
    st = final_check.State(declined, said_yes_at_check_in, [], [], [])
    assert st.road_test is False
    # ... and the car may not gain more than the yard allowance.
    assert final_check.odometer_fuel_problem(st, 10_000 + final_check.YARD_KM + 1, 8)


async def test_without_consents_the_car_passes_without_a_road_test_or_bagged_parts(
    db, settings, users
) -> None:
    order_id = await signed_order_with(db, settings, users, road_test=False, keep_old_parts=False)
    await dispatch_all(db, users, order_id)
    await work_done(db, users, order_id)
    st = await final_check.state(db, order_id)
    assert "road_test" not in st.items
    assert "old_parts_bagged" not in st.items
    check_in = await check_in_of(db, order_id)
    km = check_in.odometer_km or 0
    # No road test: only the yard allowance.
    await refused(
        db, order_id, InvalidInput,
        lambda: inspect(db, users, order_id, odometer_km=str(km + final_check.YARD_KM + 1)),
        field="odometer_km",
    )  # fmt: skip
    await inspect(db, users, order_id, odometer_km=str(km + final_check.YARD_KM))
    await db.commit()
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.READY
    inspection = await db.scalar(select(Inspection).where(Inspection.work_order_id == order_id))
    assert inspection is not None
    assert "road_test" not in inspection.ticked


async def test_the_odometer_must_fit_check_in_plus_the_road_test(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)  # the customer agreed to a road test
    check_in = await check_in_of(db, order_id)
    km = check_in.odometer_km or 0
    await refused(
        db, order_id, InvalidInput,
        lambda: inspect(db, users, order_id, odometer_km=str(km - 1)),
        _("The odometer reads less than at check-in (%(km)s km). Check the reading.", km=km),
        field="odometer_km",
    )  # fmt: skip
    over = final_check.ROAD_TEST_KM + 1
    await refused(
        db, order_id, InvalidInput,
        lambda: inspect(db, users, order_id, odometer_km=str(km + over)),
        _("The car has done %(km)s km since check-in, more than the %(max)s km allowed.",
          km=over, max=final_check.ROAD_TEST_KM),
        field="odometer_km",
    )  # fmt: skip
    for reading in ("", "abc", "-5"):
        await refused(
            db, order_id, InvalidInput,
            lambda reading=reading: inspect(db, users, order_id, odometer_km=reading),
            _("Enter the odometer reading in km."), field="odometer_km",
        )  # fmt: skip
    fuel = check_in.fuel_eighths or 0
    await refused(
        db, order_id, InvalidInput,
        lambda: inspect(db, users, order_id, fuel_eighths=str(fuel - 2)),
        _("The fuel level is lower than at check-in. Check the gauge."), field="odometer_km",
    )  # fmt: skip
    await inspect(
        db, users, order_id, odometer_km=str(km + final_check.ROAD_TEST_KM),
        fuel_eighths=str(fuel - final_check.FUEL_DROP_EIGHTHS),
    )  # fmt: skip
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.READY


async def test_a_fail_says_why_and_which_jobs_to_redo(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    [task] = await tasks(db, order_id)
    job_id = task.job_id
    # A job of another order (an unsigned demo order's).
    await demo_data.load(db, settings.tz)
    other_order = await db.scalar(
        select(WorkOrder.id).where(WorkOrder.id != order_id, WorkOrder.signed_at.is_(None))
    )
    other = Job(work_order_id=other_order, title="别的车的项目")
    db.add(other)
    await db.commit()
    other_id = other.id

    def fail(**given: Any) -> Callable[[], Awaitable[Inspection]]:
        fields: dict[str, Any] = {
            "passed": False, "ticked": [], "odometer_km": None, "fuel_eighths": None,
            "reason_category": "workmanship", "note": "机滤渗油", "rework_job_ids": [job_id],
        } | given  # fmt: skip
        return lambda: inspect(db, users, order_id, **fields)

    cases = [
        (fail(reason_category=None), "Choose why the check failed.", "reason_category"),
        (fail(reason_category="bad luck"), "Choose why the check failed.", "reason_category"),
        (fail(note=None), "Note what must be redone.", "note"),
        (fail(note=" \n "), "Note what must be redone.", "note"),
        (fail(rework_job_ids=[]), "Choose the jobs to redo.", "rework_job_ids"),
        (fail(rework_job_ids=[other_id]), "Choose the jobs to redo.", "rework_job_ids"),
        (fail(rework_job_ids=[job_id, other_id]), "Choose the jobs to redo.", "rework_job_ids"),
    ]
    for call, message, field in cases:
        await refused(db, order_id, InvalidInput, call, _(message), field=field)


async def test_only_a_car_waiting_for_qc_is_inspected(db, settings, users) -> None:
    order_id = await ready(db, settings, users)
    not_waiting = _("This car is not waiting for the final check.")
    await refused(db, order_id, Conflict, lambda: inspect(db, users, order_id), not_waiting)
    order_id = await signed_order_with(db, settings, users, appointment=1)
    await dispatch_all(db, users, order_id)
    await refused(db, order_id, Conflict, lambda: inspect(db, users, order_id), not_waiting)


async def test_a_stale_version_is_refused(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    stale = (await order(db, order_id)).version - 1
    await refused(
        db, order_id, Conflict, lambda: inspect(db, users, order_id, version=stale),
        _("Someone else changed this work order. Reload to see the latest."),
    )  # fmt: skip


async def test_a_fail_sends_back_only_the_named_jobs(db, settings, users) -> None:
    order_id = await signed_order_with(db, settings, users, second_job=True)
    await dispatch_all(db, users, order_id)
    await work_done(db, users, order_id)
    first, second = await tasks(db, order_id)
    redo, kept = first.job_id, second.job_id
    kept_before = (second.status, second.self_checked_at, second.mutual_checked_at,
                   second.mutual_checked_by_id, second.rework)  # fmt: skip
    assert kept_before[0] == TaskStatus.FINISHED.value
    version = (await order(db, order_id)).version

    await inspect(
        db, users, order_id, version=version, passed=False, ticked=[], odometer_km=None,
        fuel_eighths=None, reason_category="parts", note="机滤型号不对", rework_job_ids=[redo],
    )  # fmt: skip
    await db.commit()

    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.IN_PROGRESS
    assert wo.rework_count == 1
    first, second = await tasks(db, order_id)
    assert first.job_id == redo
    assert first.status == TaskStatus.DISPATCHED.value
    assert first.technician_id == users[Role.TECHNICIAN]
    assert (first.rework, first.rework_note) == (True, "机滤型号不对")
    assert (first.self_checked_at, first.mutual_checked_at, first.mutual_checked_by_id) == (
        None, None, None,
    )  # fmt: skip
    assert second.job_id == kept
    assert (second.status, second.self_checked_at, second.mutual_checked_at,
            second.mutual_checked_by_id, second.rework) == kept_before  # fmt: skip
    inspection = await db.scalar(select(Inspection).where(Inspection.work_order_id == order_id))
    assert inspection is not None
    assert (inspection.round, inspection.passed, inspection.reason_category) == (1, False, "parts")
    assert inspection.rework_job_ids == [redo]
    assert inspection.odometer_km is None
