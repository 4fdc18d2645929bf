"""Ready to sign: what stops the estimate going to the customer; handing the tablet over."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import Job, WorkOrder, WorkOrderStatus
from app.services import audit
from app.services.audit import Actor
from app.services.estimate.guards import check_in_complete, check_in_first, ensure_estimating
from app.services.estimate.pricing import order_jobs


async def readiness(session: AsyncSession, order: WorkOrder) -> list[str]:
    """Everything that stops this order from going to the customer, re-read from
    the database: the check-in complete, then the estimate itself."""
    if not await check_in_complete(session, order) or order.status != WorkOrderStatus.ESTIMATE:
        return [check_in_first()]
    return problems_before_signing(order, await order_jobs(session, order))


async def hand_over(session: AsyncSession, order: WorkOrder, actor: Actor, now: datetime) -> None:
    """The advisor hands the tablet to the customer to review and sign."""
    ensure_estimating(order, None)
    problems = await readiness(session, order)
    if problems:
        raise InvalidInput(" ".join(problems))
    order.customer_mode_since = now
    audit.record(session, actor, "customer_mode.enter", "work_order", order.id)


def problems_before_signing(order: WorkOrder, jobs: list[Job]) -> list[str]:
    """What stops the customer from signing, in words the advisor can act on."""
    problems = []
    if not any(j.declined_at is None for j in jobs):
        problems.append(_("The estimate has no job to do."))
    for job in jobs:
        if job.declined_at is None and not job.lines:
            problems.append(
                _("“{title}” has no labour or parts yet. Price it or mark it declined.").format(
                    title=job.title
                )
            )
    if order.promised_at is None:
        problems.append(_("Set the promised time."))
    return problems
