"""CSI evidence for a month: for the orders delivered in the period, how often the record
proves that a survey question's promise was kept (seeds 003 and 004).

The same meaning as app/services/follow_ups/evidence.py, which explains one order at a
call, but counted for a whole period in a handful of queries (a year is 37,000 orders;
never one query per order). Each figure is proved / orders delivered in the period: an
order whose record cannot tell (no promised time, no call) is not proved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import (
    REQUIRED_COVERS,
    CheckIn,
    CoverInstall,
    Dealership,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpTask,
    Inspection,
    JobTask,
    Photo,
    PhotoStage,
    TimeEntry,
    WorkOrder,
)
from app.services.board import labour
from app.services.board.scope import promised_time
from app.services.reports.period import Period

CODES = ("walkaround", "estimate_before_work", "ready_on_time", "bill_matches", "follow_up")


def labels() -> dict[str, str]:
    """Code -> the survey question the record answers, in the reader's language."""
    return {
        "walkaround": _("Walkaround photographed with covers on, with the customer"),
        "estimate_before_work": _("Estimate signed before work began"),
        "ready_on_time": _("Ready at the promised time"),
        "bill_matches": _("Bill matched the estimate"),
        "follow_up": _("Follow-up call within 3 days"),
    }


@dataclass(frozen=True)
class EvidenceFigure:
    code: str
    label: str
    proved: int
    orders: int
    work_order_ids: tuple[int, ...]  # the orders it is proved for

    @property
    def per_cent(self) -> float | None:
        return round(self.proved * 100 / self.orders, 1) if self.orders else None


def delivered_in(period: Period) -> Select[int]:
    """The ids of the orders delivered in the period, as a subquery (too many to send)."""
    return select(WorkOrder.id).where(
        WorkOrder.delivered_at >= period.starts_at, WorkOrder.delivered_at < period.ends_at
    )


async def _walkaround(session: AsyncSession, orders: Select[int]) -> set[int]:
    """All four required covers installed, and walkaround photos uploaded at check-in."""
    required = [str(kind) for kind in REQUIRED_COVERS]
    covered = set(
        (
            await session.scalars(
                select(CheckIn.work_order_id)
                .join(CoverInstall, CoverInstall.check_in_id == CheckIn.id)
                .where(CheckIn.work_order_id.in_(orders), CoverInstall.kind.in_(required))
                .group_by(CheckIn.work_order_id)
                .having(func.count(func.distinct(CoverInstall.kind)) == len(required))
            )
        ).all()
    )
    photographed = set(
        (
            await session.scalars(
                select(CheckIn.work_order_id)
                .join(Photo, Photo.check_in_id == CheckIn.id)
                .where(CheckIn.work_order_id.in_(orders), Photo.stage == PhotoStage.CHECK_IN.value)
                .distinct()
            )
        ).all()
    )
    return covered & photographed


async def _estimate_first(
    session: AsyncSession, rows: Iterable[tuple[int, datetime | None]], orders: Select[int]
) -> set[int]:
    """Signed, and signed no later than the first clocked minute (or no work clocked)."""
    first_clock = dict(
        (
            await session.execute(
                select(JobTask.work_order_id, func.min(TimeEntry.started_at))
                .join(TimeEntry, TimeEntry.task_id == JobTask.id)
                .where(JobTask.work_order_id.in_(orders))
                .group_by(JobTask.work_order_id)
            )
        )
        .tuples()
        .all()
    )
    return {
        order_id
        for order_id, signed_at in rows
        if signed_at is not None
        and (first_clock.get(order_id) is None or signed_at <= first_clock[order_id])
    }


async def first_passed(session: AsyncSession, orders: Select[int]) -> dict[int, datetime]:
    """Order id -> when its first passed final check was recorded."""
    found = await session.execute(
        select(Inspection.work_order_id, func.min(Inspection.created_at))
        .where(Inspection.work_order_id.in_(orders), Inspection.passed.is_(True))
        .group_by(Inspection.work_order_id)
    )
    return dict(found.tuples().all())


def ready_on_time(
    promised_at: datetime | None, delivered_at: datetime | None, passed_at: datetime | None
) -> bool:
    """Ready (the first passed final check, else the delivery) by the last promised time."""
    ready = passed_at or delivered_at
    return promised_at is not None and ready is not None and ready <= promised_at


def bill_matches(estimate: Decimal | None, bill: Decimal, shop: Dealership) -> bool:
    """Within the tolerance of the signed estimate (5 % by default); no estimate, no proof."""
    return estimate is not None and labour.bill_within(estimate, bill, shop)


async def _called_in_time(session: AsyncSession, orders: Select[int]) -> set[int]:
    """The delivery call first tried by its deadline (the follow-up report's "on time")."""
    found = await session.execute(
        select(FollowUpTask.work_order_id)
        .join(FollowUpAttempt, FollowUpAttempt.task_id == FollowUpTask.id)
        .where(
            FollowUpTask.work_order_id.in_(orders),
            FollowUpTask.reason == FollowUpReason.DELIVERY.value,
            FollowUpTask.call_allowed.is_(True),
        )
        .group_by(FollowUpTask.id, FollowUpTask.work_order_id, FollowUpTask.deadline_at)
        .having(func.min(FollowUpAttempt.called_at) <= FollowUpTask.deadline_at)
    )
    return {order_id for order_id in found.scalars() if order_id is not None}


async def for_period(
    session: AsyncSession, period: Period, shop: Dealership
) -> list[EvidenceFigure]:
    """One figure per question in CODES' order, for the orders delivered in `period`."""
    orders = delivered_in(period)
    rows = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.signed_at,
                promised_time().label("promised_at"),
                WorkOrder.delivered_at,
            )
            .where(WorkOrder.id.in_(orders))
            .order_by(WorkOrder.id)
        )
    ).all()
    passed = await first_passed(session, orders)
    # Priced as the board prices them, so the two figures agree order by order.
    money = await labour.bill_amounts(session, orders, shop)
    proved: dict[str, set[int]] = {
        "walkaround": await _walkaround(session, orders),
        "estimate_before_work": await _estimate_first(
            session, [(r.id, r.signed_at) for r in rows], orders
        ),
        "ready_on_time": {
            r.id for r in rows if ready_on_time(r.promised_at, r.delivered_at, passed.get(r.id))
        },
        "bill_matches": {
            order_id
            for order_id, (estimate, bill) in money.items()
            if bill_matches(estimate, bill, shop)
        },
        "follow_up": await _called_in_time(session, orders),
    }
    names = labels()
    return [
        EvidenceFigure(code, names[code], len(ids), len(rows), tuple(sorted(ids)))
        for code, ids in proved.items()
    ]
