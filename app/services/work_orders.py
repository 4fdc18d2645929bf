"""Work-order status changes (audited, and reported to the dealer system) and the
order's audit log read back."""

from __future__ import annotations

import csv
import io

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent, CheckIn, StaffUser, WorkOrder, WorkOrderStatus
from app.models.base import utcnow
from app.services import audit
from app.services.audit import Actor
from app.services.outbound import webhooks
from app.text import spreadsheet_cell


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


async def audit_events(session: AsyncSession, order_id: int) -> list[tuple[AuditEvent, str]]:
    """Everything recorded against the order and its check-in, oldest first, with
    the name of who did it ("" for the system)."""
    check_in_id = await session.scalar(select(CheckIn.id).where(CheckIn.work_order_id == order_id))
    rows = await session.execute(
        select(AuditEvent, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.actor_id)
        .where(
            or_(
                (AuditEvent.entity_type == "work_order") & (AuditEvent.entity_id == str(order_id)),
                (AuditEvent.entity_type == "check_in") & (AuditEvent.entity_id == str(check_in_id)),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [(event, name or "") for event, name in rows.all()]


async def audit_csv(session: AsyncSession, order_id: int) -> bytes:
    """The audit log as a spreadsheet, with a BOM so that Excel opens the Chinese text as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "actor", "action", "entity", "device", "ip", "user_agent", "details"])
    for event, name in await audit_events(session, order_id):
        writer.writerow([
            spreadsheet_cell(cell) for cell in (
                event.at.isoformat(), name, event.action,
                f"{event.entity_type}:{event.entity_id}", event.device_id, event.ip,
                event.user_agent, str(event.details),
            )
        ])  # fmt: skip
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
