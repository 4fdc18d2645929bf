from __future__ import annotations

from sqlalchemy import func, select

from app.models import Appointment, Customer, LabourOperation, MenuPackage, Part, StaffUser, Vehicle
from app.models.base import utcnow
from app.passwords import verify_password
from app.services import demo_data, vin
from app.services.lane_board import day_bounds


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return await db.scalar(select(func.count()).select_from(model))


async def test_demo_data_has_what_the_brief_promises(db, settings) -> None:
    summary = await demo_data.load(db, settings.tz)
    assert summary.created_static
    assert await _count(db, Customer) == 30
    vehicles = (await db.scalars(select(Vehicle))).all()
    assert len(vehicles) == 30
    assert all(vin.check(v.vin).problem is None for v in vehicles)
    assert len({v.plate for v in vehicles}) == 30
    assert all(v.plate.startswith("粤B") and len(v.plate) == 7 for v in vehicles)
    start, end = day_bounds(utcnow(), settings.tz)
    today = await db.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.scheduled_at >= start, Appointment.scheduled_at < end
        )
    )
    assert today == 12
    users = {u.username: u for u in (await db.scalars(select(StaffUser))).all()}
    assert set(users) == {"advisor", "technician", "foreman", "qc", "relations", "manager", "admin"}
    assert all(verify_password(u.password_hash, "demo") for u in users.values())
    assert {r.value for u in users.values() for r in u.roles} == {
        "advisor", "technician", "foreman", "qc_inspector", "customer_relations",
        "service_manager", "admin",
    }  # fmt: skip
    assert await _count(db, LabourOperation) >= 10
    assert await _count(db, Part) >= 8
    packages = (await db.scalars(select(MenuPackage))).all()
    assert {p.interval_km for p in packages} == {5000, 10000, 40000}
    assert all(p.items for p in packages)


async def test_loading_demo_data_twice_changes_nothing(db, settings) -> None:
    await demo_data.load(db, settings.tz)
    await db.commit()
    counts = [await _count(db, m) for m in (Customer, Vehicle, Appointment, StaffUser, Part)]
    again = await demo_data.load(db, settings.tz)
    await db.commit()
    assert not again.created_static
    assert again.appointments_added == 0
    assert [
        await _count(db, m) for m in (Customer, Vehicle, Appointment, StaffUser, Part)
    ] == counts
