"""Customers not seen for the dealership's `follow_up_dormant_months`: a call each.

Stored as tasks (reason dormant), not computed on every read: a call needs a row to
hold its attempts, its moved due time and its version. Creating them is a change,
so it runs from a POST ("refresh the list"), the CLI and the demo, never from a GET;
it is idempotent (one dormant task per last visit).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    ON_SITE_STATUSES,
    CheckIn,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit
from app.services.audit import Actor
from app.services.estimate import pricing


def months_before(moment: datetime, months: int) -> datetime:
    month = moment.month - months
    year = moment.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month, day=day)


async def create_dormant_tasks(session: AsyncSession, now: datetime, actor: Actor) -> int:
    """One call per vehicle whose last delivered visit is older than the dealership's
    months and that has not come back since; returns how many were added."""
    shop = await pricing.dealership(session)
    cutoff = months_before(now, shop.follow_up_dormant_months)
    last = (
        select(WorkOrder.vehicle_id, func.max(WorkOrder.delivered_at).label("last"))
        .where(WorkOrder.status == WorkOrderStatus.DELIVERED)
        .group_by(WorkOrder.vehicle_id)
        .subquery()
    )
    orders = (
        await session.scalars(
            select(WorkOrder)
            .join(
                last,
                (last.c.vehicle_id == WorkOrder.vehicle_id)
                & (last.c.last == WorkOrder.delivered_at),
            )
            .where(last.c.last < cutoff)
        )
    ).unique()
    on_site = set(
        (
            await session.scalars(
                select(WorkOrder.vehicle_id).where(WorkOrder.status.in_(ON_SITE_STATUSES))
            )
        ).all()
    )
    done = set(
        (
            await session.scalars(
                select(FollowUpTask.work_order_id).where(
                    FollowUpTask.reason == FollowUpReason.DORMANT.value
                )
            )
        ).all()
    )
    added = 0
    for order in orders:
        if order.id in done or order.vehicle_id in on_site:
            continue
        ci = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
        allowed = order.consent_follow_up is not False and (
            ci is None or ci.follow_up_accepted is not False
        )
        session.add(
            FollowUpTask(
                work_order_id=order.id, customer_id=order.customer_id,
                vehicle_id=order.vehicle_id, reason=FollowUpReason.DORMANT.value, due_at=now,
                phone=(ci.follow_up_phone if ci else "") or order.customer.phone,
                contact_name=order.customer.name, call_allowed=allowed,
                status=(FollowUpStatus.OPEN if allowed else FollowUpStatus.DECLINED).value,
                preferred_when=ci.follow_up_when if ci else "",
            )
        )  # fmt: skip
        done.add(order.id)
        added += 1
    if added:
        audit.record(session, actor, "follow_up.dormant", "follow_up_task", "", added=added)
        await session.flush()
    return added
