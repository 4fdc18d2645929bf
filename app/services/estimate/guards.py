"""When the estimate may change: after the check-in, before the signature, at the version seen.

Every change checks the order's version (two tablets never overwrite each
other) and that the order is still being estimated: once the customer has
signed, added work goes on a supplement the customer approves.
"""

from __future__ import annotations

from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import _
from app.models import CheckIn, Supplement, SupplementStatus, WorkOrder, WorkOrderStatus
from app.models.base import utcnow


def check_in_first() -> str:
    """The refusal, translated when it is raised."""
    return _("Finish the check-in with the customer before the estimate.")


async def check_in_of(session: AsyncSession, order: WorkOrder) -> CheckIn | None:
    return await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))


def completed(check_in: CheckIn | None) -> TypeGuard[CheckIn]:
    """The car was walked round with the customer: only then is a price written."""
    return check_in is not None and check_in.completed_at is not None


async def check_in_complete(session: AsyncSession, order: WorkOrder) -> bool:
    return completed(await check_in_of(session, order))


def ensure_estimating(order: WorkOrder, version: int | None) -> None:
    """The order can still be estimated, and the tablet saw its latest version.

    Only a completed check-in moves an order to ESTIMATE: no price is written
    before the car has been walked round with the customer."""
    if order.status == WorkOrderStatus.CHECK_IN:
        raise Conflict(check_in_first())
    if order.signed_at is not None or order.status != WorkOrderStatus.ESTIMATE:
        raise Conflict(
            _(
                "This work order has been signed by the customer and cannot change. "
                "Added work goes on a supplement the customer approves."
            )
        )
    if version is not None and version != order.version:
        raise Conflict(_("Someone else changed this estimate. Reload to see the latest."))


def ensure_draft(supplement: Supplement) -> None:
    """Added work can change until it is sent to the customer (or withdrawn)."""
    if supplement.status == SupplementStatus.WITHDRAWN.value:
        raise Conflict(_("This finding was withdrawn by the advisor; it cannot be sent."))
    if supplement.status != SupplementStatus.DRAFT.value:
        raise Conflict(_("This supplement was already sent to the customer and cannot change."))


def touch(order: WorkOrder) -> None:
    # Any change to the estimate bumps the order's version (version_id_col).
    order.updated_at = utcnow()
