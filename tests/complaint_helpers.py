"""A delivered order to complain about, and the check call that finds the customer
satisfied (or not), made with the models directly as the follow-up queue would."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    AttemptOutcome,
    Customer,
    Dealership,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    Role,
    StaffUser,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import dealership
from app.services.audit import Actor


def relations(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.CUSTOMER_RELATIONS], roles=frozenset({"customer_relations"}))


def manager(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.SERVICE_MANAGER], roles=frozenset({"service_manager"}))


def advisor(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.ADVISOR], roles=frozenset({"advisor"}))


async def delivered_order(
    db: AsyncSession, users: dict[Role, int], now: datetime, number: str = "WO20261130-001"
) -> WorkOrder:
    """A dealership (opening 08:30-18:00) and a car delivered the day before `now`."""
    if await dealership.current(db) is None:
        db.add(Dealership(code="D1", name="Demo", tax_rate=Decimal("0.13")))
    customer = Customer(name="王芳", phone="13800138000")
    db.add(customer)
    await db.flush()
    vehicle = Vehicle(customer_id=customer.id, plate=f"粤B{number[-3:]}88", make="Toyota",
                      model="Camry")  # fmt: skip
    db.add(vehicle)
    await db.flush()
    order = WorkOrder(
        number=number, status=WorkOrderStatus.DELIVERED, customer_id=customer.id,
        vehicle_id=vehicle.id, advisor_id=users[Role.ADVISOR],
        delivered_at=now - timedelta(days=1),
    )  # fmt: skip
    db.add(order)
    await db.flush()
    return order


async def check_call(
    db: AsyncSession, complaint_id: int, satisfied: bool, at: datetime, by: int | None = None
) -> FollowUpAttempt:
    """The clerk's call on the complaint's task (made if missing): reached, satisfied or not."""
    from sqlalchemy import select

    task = await db.scalar(
        select(FollowUpTask).where(FollowUpTask.complaint_id == complaint_id)
        .order_by(FollowUpTask.id.desc())
    )  # fmt: skip
    if task is None:
        from app.models import Complaint

        complaint = await db.get(Complaint, complaint_id)
        assert complaint is not None
        task = FollowUpTask(
            reason=FollowUpReason.COMPLAINT.value, complaint_id=complaint_id, due_at=at,
            customer_id=complaint.customer_id, vehicle_id=complaint.vehicle_id,
            work_order_id=complaint.work_order_id,
        )  # fmt: skip
        db.add(task)
        await db.flush()
    task.status = FollowUpStatus.REACHED.value
    task.closed_at = at
    attempt = FollowUpAttempt(
        task_id=task.id, called_at=at, called_by_id=by, outcome=AttemptOutcome.REACHED.value,
        spoke_with="user", satisfied=satisfied,
    )  # fmt: skip
    db.add(attempt)
    await db.flush()
    return attempt


async def manager_contact(db: AsyncSession, users: dict[Role, int]) -> StaffUser:
    user = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    assert user is not None
    user.email, user.phone = "manager@example.com", "13900139000"
    await db.flush()
    return user
