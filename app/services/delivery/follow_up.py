"""The follow-up call (回访) after delivery: scheduled when the customer signs the
delivery acceptance, by a listener of the `CarDelivered` event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, FollowUpStatus, FollowUpTask, WorkOrder
from app.services import events
from app.services.estimate import pricing


async def schedule_follow_up(
    session: AsyncSession, order: WorkOrder, check_in: CheckIn, now: datetime
) -> FollowUpTask:
    """The follow-up call (回访), due within the dealership's deadline (3 days by default)."""
    shop = await pricing.dealership(session)
    call_allowed = order.consent_follow_up is not False and check_in.follow_up_accepted is not False
    task = FollowUpTask(
        work_order_id=order.id,
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        contact_name=order.customer.name,
        due_at=now + timedelta(days=shop.follow_up_days),
        phone=check_in.follow_up_phone or order.customer.phone,
        call_allowed=call_allowed,
        # Declined calls are never made, and are counted as such.
        status=FollowUpStatus.OPEN if call_allowed else FollowUpStatus.DECLINED,
        preferred_when=check_in.follow_up_when,
        details={"rework_count": order.rework_count},
    )
    session.add(task)
    return task


async def on_car_delivered(session: AsyncSession, event: events.CarDelivered) -> None:
    await schedule_follow_up(session, event.order, event.check_in, event.now)
