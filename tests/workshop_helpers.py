"""Arrange helpers for the workshop, final check and delivery tests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, JobTask, Role, StaffRole, StaffUser, WorkOrder
from app.models.base import utcnow
from app.services import final_check, workshop
from app.services.audit import Actor
from app.settings import Settings
from tests.estimate_helpers import order, signed_order


def actor(users: dict[Role, int], role: Role) -> Actor:
    return Actor(users[role], device_id=f"tablet-{role.value}", roles=frozenset({role.value}))


async def another_technician(db: AsyncSession, username: str = "tech2") -> Actor:
    user = StaffUser(
        username=username,
        display_name=username.title(),
        password_hash="x",
        role_rows=[StaffRole(role=Role.TECHNICIAN)],
    )
    db.add(user)
    await db.commit()
    return Actor(user.id, roles=frozenset({Role.TECHNICIAN.value}))


async def tasks(db: AsyncSession, order_id: int) -> list[JobTask]:
    await db.rollback()
    db.expire_all()
    return list(
        (
            await db.scalars(
                select(JobTask).where(JobTask.work_order_id == order_id).order_by(JobTask.id)
            )
        ).all()
    )


async def dispatched(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """A signed order with every job dispatched to the technician; committed."""
    order_id, _sig = await signed_order(db, settings, users)
    for task in await tasks(db, order_id):
        await workshop.dispatch(
            db, task.id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
        )
    await db.commit()
    return order_id


async def work_done(db: AsyncSession, users: dict[Role, int], order_id: int) -> None:
    """Every dispatched job started, finished and self-checked by the technician,
    and mutual-checked by the foreman; committed."""
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    for task in await tasks(db, order_id):
        await workshop.start(db, task.id, tech, utcnow())
        await workshop.finish(db, task.id, tech, utcnow())
        await workshop.self_check(db, task.id, tech, utcnow())
        await workshop.mutual_check(db, task.id, foreman, utcnow())
    await db.commit()


async def in_qc(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    order_id = await dispatched(db, settings, users)
    await work_done(db, users, order_id)
    return order_id


async def check_in_of(db: AsyncSession, order_id: int) -> CheckIn:
    found = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order_id))
    assert found is not None
    return found


async def pass_final_check(db: AsyncSession, users: dict[Role, int], order_id: int) -> None:
    wo: WorkOrder = await order(db, order_id)
    check_in = await check_in_of(db, order_id)
    st = await final_check.state(db, order_id)
    await final_check.inspect(
        db, order_id, passed=True, ticked=st.items,
        odometer_km=str((check_in.odometer_km or 0) + 3), fuel_eighths=str(check_in.fuel_eighths),
        reason_category=None, note=None, rework_job_ids=[],
        actor=actor(users, Role.QC_INSPECTOR), now=utcnow(), version=wo.version,
    )  # fmt: skip
    await db.commit()


async def ready(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """Through the workshop and a passed final check: ready for delivery."""
    order_id = await in_qc(db, settings, users)
    await pass_final_check(db, users, order_id)
    return order_id
