"""Work-order status changes: audited, and reported to the dealer system."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import WorkOrder, WorkOrderStatus
from app.models.base import utcnow
from app.services import audit
from app.services.audit import Actor
from app.services.outbound import webhooks


def change_status(
    session: AsyncSession, order: WorkOrder, to: WorkOrderStatus, actor: Actor, **details: object
) -> None:
    before = order.status
    if before == to:
        return
    order.status = to
    order.updated_at = utcnow()
    audit.record(
        session, actor, "work_order.status", "work_order", order.id,
        before=before.value, after=to.value, **details,
    )  # fmt: skip
    webhooks.enqueue(
        session,
        "work_order.status_changed",
        order,
        {
            "work_order_id": order.id,
            "number": order.number,
            "from": before.value,
            "to": to.value,
        },
    )
