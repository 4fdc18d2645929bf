"""Opening the workshop's tasks when the customer agrees to work.

The workshop listens for the signed work order and the approved added work
(domain events, see `app.services.events`): signing and supplements publish them
and never import the workshop."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobTask, WorkOrder, WorkOrderStatus
from app.services import board_events, events, work_orders
from app.services.audit import Actor

# Orders the workshop works on; a signed order waits for dispatch.
WORKSHOP_STATUSES = (
    WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QC,
    WorkOrderStatus.READY,
)  # fmt: skip


def open_tasks(
    session: AsyncSession, order: WorkOrder, jobs: Iterable[Job], actor: Actor
) -> list[JobTask]:
    """A task for every job the customer agreed to (declined jobs are not done).

    Called when the order is signed and when added work is approved; added work
    on a car already in QC or ready sends it back to the workshop."""
    tasks = [
        JobTask(job_id=job.id, work_order_id=order.id, entries=[])
        for job in jobs
        if job.declined_at is None
    ]
    session.add_all(tasks)
    if tasks and order.status in (WorkOrderStatus.QC, WorkOrderStatus.READY):
        work_orders.change_status(
            session, order, WorkOrderStatus.IN_PROGRESS, actor, reason="added_work"
        )
    board_events.changed(session)
    return tasks


async def on_work_order_signed(session: AsyncSession, event: events.WorkOrderSigned) -> None:
    open_tasks(session, event.order, event.jobs, event.actor)


async def on_supplement_decided(session: AsyncSession, event: events.SupplementDecided) -> None:
    """Approved added work is done like the order's jobs; either answer moves the board."""
    if event.approved:
        open_tasks(session, event.order, event.jobs, event.actor)
    board_events.changed(session)
