"""The odometer at check-in against the car's own projection: a reading far off asks for
the same confirmation as a jump, naming the km projected; the other checks are as before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import InvalidInput
from app.models import Step
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import fields as check_in_fields
from tests.checkin_helpers import fresh, started_check_in
from tests.reminders_helpers import a_visit


async def _with_history(db, settings, users, driven=4_000):  # type: ignore[no-untyped-def]
    """A check-in for a car read 100 days ago at its last reading L, and `driven` km lower
    100 days before that: projected today, L + driven."""
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    vehicle = check_in.work_order.vehicle
    now = utcnow()
    vehicle.last_odometer_at = now - timedelta(days=100)
    await a_visit(db, vehicle, now - timedelta(days=200), vehicle.last_odometer_km - driven)
    await db.commit()
    check_in = await fresh(db, check_in_id)
    return check_in, check_in.work_order.vehicle


async def _save(db, check_in, vehicle, form):  # type: ignore[no-untyped-def]
    return await check_in_fields.save(
        db, check_in, Step.WALKAROUND, form, check_in.version, vehicle, Actor(None)
    )


async def test_a_reading_far_off_the_projection_needs_confirmation(db, settings, users) -> None:
    check_in, vehicle = await _with_history(db, settings, users)
    last = vehicle.last_odometer_km
    typo = last + 10_000  # 6,000 km above the projected L + 4,000
    with pytest.raises(InvalidInput) as refused:
        await _save(db, check_in, vehicle, {"odometer_km": str(typo)})
    assert refused.value.field == "odometer_km"
    assert f"{last + 4_000:,}" in refused.value.message
    assert f"{typo:,}" in refused.value.message
    check_in = await fresh(db, check_in.id)
    assert check_in.odometer_km is None
    await _save(db, check_in, check_in.work_order.vehicle,
                {"odometer_km": str(typo), "odometer_jump_confirmed": "1"})  # fmt: skip
    assert check_in.odometer_km == typo


async def test_a_reading_far_below_the_projection_is_flagged_too(db, settings, users) -> None:
    # 200 km a day: L + 20,000 projected, the margin half of the 20,000 since L.
    check_in, vehicle = await _with_history(db, settings, users, driven=20_000)
    last = vehicle.last_odometer_km
    with pytest.raises(InvalidInput) as refused:
        await _save(db, check_in, vehicle, {"odometer_km": str(last + 5_000)})  # 15,000 under
    assert f"{last + 20_000:,}" in refused.value.message
    check_in = await fresh(db, check_in.id)
    await _save(db, check_in, check_in.work_order.vehicle, {"odometer_km": str(last + 12_000)})
    assert check_in.odometer_km == last + 12_000


async def test_a_reading_below_the_last_one_is_refused_as_before(db, settings, users) -> None:
    check_in, vehicle = await _with_history(db, settings, users)
    last = vehicle.last_odometer_km
    with pytest.raises(InvalidInput) as refused:
        await _save(
            db, check_in, vehicle, {"odometer_km": str(last - 1), "odometer_jump_confirmed": "1"}
        )
    assert f"{last:,}" in refused.value.message


async def test_without_the_cars_history_only_the_jump_check_applies(db, settings, users) -> None:
    check_in = await fresh(db, await started_check_in(db, settings, users))
    vehicle = check_in.work_order.vehicle
    vehicle.last_odometer_at = utcnow() - timedelta(days=100)
    await db.commit()
    check_in = await fresh(db, check_in.id)
    vehicle = check_in.work_order.vehicle
    await _save(db, check_in, vehicle, {"odometer_km": str(vehicle.last_odometer_km + 30_000)})
    assert check_in.odometer_km == vehicle.last_odometer_km + 30_000
