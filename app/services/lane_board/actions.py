"""What a row on the lane board offers, by the state its work order is in."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.models import WorkOrderStatus


class Kind(enum.StrEnum):
    CONTINUE = "continue"  # the check-in is still open: 继续接车
    ESTIMATE = "estimate"
    ORDER = "order"  # signed, in the workshop or in QC: 查看工单
    DELIVER = "deliver"  # ready: 交车
    VIEW = "view"  # delivered: look only


@dataclass(frozen=True)
class Action:
    kind: Kind
    href: str


# Orders past the check-in: the page each state leads to.
_PAST_CHECK_IN = {
    WorkOrderStatus.ESTIMATE: (Kind.ESTIMATE, "/work-orders/{id}/estimate"),
    WorkOrderStatus.SIGNED: (Kind.ORDER, "/work-orders/{id}"),
    WorkOrderStatus.IN_PROGRESS: (Kind.ORDER, "/work-orders/{id}"),
    WorkOrderStatus.QC: (Kind.ORDER, "/work-orders/{id}"),
    WorkOrderStatus.READY: (Kind.DELIVER, "/delivery/{id}"),
    WorkOrderStatus.DELIVERED: (Kind.VIEW, "/work-orders/{id}"),
}


def for_order(status: str, order_id: int, check_in_id: int | None) -> Action | None:
    """The one action the order's state allows; None for a cancelled order."""
    if status == WorkOrderStatus.CHECK_IN and check_in_id is not None:
        return Action(Kind.CONTINUE, f"/check-ins/{check_in_id}")
    if status == WorkOrderStatus.CHECK_IN:
        return Action(Kind.ORDER, f"/work-orders/{order_id}")
    found = _PAST_CHECK_IN.get(WorkOrderStatus(status))
    if found is None:
        return None
    kind, href = found
    return Action(kind, href.format(id=order_id))
