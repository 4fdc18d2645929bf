"""What the greeting shows before the advisor speaks: the booking, the last visit and
what was declined then, and when the customer likes to be called."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Appointment,
    CheckIn,
    FollowUpTask,
    Job,
    Recommendation,
    Supplement,
    SupplementStatus,
    WorkOrder,
)


@dataclass(frozen=True)
class LastVisit:
    order: WorkOrder
    jobs: list[str]  # the work done (titles of the jobs not declined)
    declined: list[Recommendation]  # what the customer said no to then


@dataclass(frozen=True)
class Greeting:
    booking: Appointment | None  # the appointment this check-in came from
    last_visit: LastVisit | None
    preferred_time: str  # 'morning', 'afternoon', 'evening', 'any', or '' if never asked


async def load(session: AsyncSession, check_in: CheckIn) -> Greeting:
    order = check_in.work_order
    booking = None
    if order.appointment_id is not None:
        booking = await session.get(Appointment, order.appointment_id)
    last = (
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.vehicle_id == order.vehicle_id, WorkOrder.id != order.id)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            .limit(1)
        )
    ).first()
    visit = None
    if last is not None:
        # Added work counts only if the customer approved it (a declined finding's job
        # is listed below, as declined, not as work done).
        jobs = (
            await session.scalars(
                select(Job.title)
                .outerjoin(Supplement, Supplement.id == Job.supplement_id)
                .where(
                    Job.work_order_id == last.id,
                    Job.declined_at.is_(None),
                    or_(
                        Job.supplement_id.is_(None),
                        Supplement.status == SupplementStatus.APPROVED.value,
                    ),
                )
                .order_by(Job.id)
            )
        ).all()
        declined = (
            await session.scalars(
                select(Recommendation)
                .where(
                    Recommendation.work_order_id == last.id,
                    Recommendation.declined_at.is_not(None),
                )
                .order_by(Recommendation.id)
            )
        ).all()
        visit = LastVisit(last, list(jobs), list(declined))
    return Greeting(booking, visit, await _preferred_time(session, order))


async def _preferred_time(session: AsyncSession, order: WorkOrder) -> str:
    """The customer's answer the last time they were asked: at a check-in, or on the
    follow-up call after it."""
    earlier = select(WorkOrder.id).where(
        WorkOrder.customer_id == order.customer_id, WorkOrder.id != order.id
    )
    asked = await session.scalar(
        select(CheckIn.follow_up_when)
        .where(CheckIn.work_order_id.in_(earlier), CheckIn.follow_up_when != "")
        .order_by(CheckIn.started_at.desc())
        .limit(1)
    )
    if asked:
        return asked
    called = await session.scalar(
        select(FollowUpTask.preferred_when)
        .where(FollowUpTask.work_order_id.in_(earlier), FollowUpTask.preferred_when != "")
        .order_by(FollowUpTask.due_at.desc())
        .limit(1)
    )
    return called or ""
