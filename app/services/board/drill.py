"""The drill-down behind a tile: the vehicles a figure counts, each with the figure's own
fact ("waited 7 min", "promised 14:00 · ready 14:30"), those against it first. One
figure's orders are a day's at most, so they are read by id in a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Formatter, _
from app.models import (
    CheckIn,
    Complaint,
    ComplaintOrder,
    Dealership,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpTask,
    Inspection,
    WorkOrder,
)
from app.services.board import labour
from app.services.board.scope import Figure, promised_time

RECEPTION = ("arrivals", "booked", "walk_in", "appointment_rate")
GREETING = ("greeting_minutes", "greeted_in_time")
FOLLOW_UPS = ("follow_ups_due", "follow_ups_on_time")
QUALITY = ("rework_rate", "first_time_fix")


@dataclass(frozen=True)
class Row:
    order_id: int
    number: str
    plate: str
    customer: str
    advisor: str
    fact: str
    against: bool  # counts against the figure (late, broken, reworked)


def against_count(figure: Figure, greeting_minutes: int, waits: dict[int, float]) -> int:
    """How many of the figure's orders (listed first) count against it."""
    if figure.code == "greeting_minutes":
        return sum(1 for o in figure.order_ids if waits.get(o, 0) > greeting_minutes)
    if figure.unit != "percent" or figure.part is None or figure.whole is None:
        return 0
    if figure.code in ("utilisation", "productivity"):
        return 0
    return figure.part if figure.lower_is_better else figure.whole - figure.part


Timing = dict[int, tuple[datetime, float, float | None]]


async def _minutes(session: AsyncSession, ids: tuple[int, ...]) -> Timing:
    """Order -> (arrived, minutes to greeting, minutes of check-in if finished)."""
    rows = await session.execute(
        select(CheckIn.work_order_id, CheckIn.arrived_at, CheckIn.started_at,
               CheckIn.completed_at).where(CheckIn.work_order_id.in_(ids))
    )  # fmt: skip
    return {
        o: (arrived, (started - arrived).total_seconds() / 60,
            (done - started).total_seconds() / 60 if done else None)
        for o, arrived, started, done in rows.all()
    }  # fmt: skip


async def _facts(
    session: AsyncSession, figure: Figure, orders: dict[int, WorkOrder], shop: Dealership,
    fmt: Formatter,
) -> dict[int, str]:  # fmt: skip
    code, ids = figure.code, figure.order_ids
    if code in RECEPTION + GREETING + ("check_in_minutes",):
        return _reception_facts(code, await _minutes(session, ids), orders, fmt)
    if code in ("finished", "promise_kept", *QUALITY):
        return await _quality_facts(session, code, ids, orders, fmt)
    return await _other_facts(session, code, ids, orders, shop, fmt)


def _reception_facts(
    code: str, timing: Timing, orders: dict[int, WorkOrder], fmt: Formatter
) -> dict[int, str]:
    facts = {}
    for o, (arrived, wait, check_in) in timing.items():
        if code in GREETING:
            facts[o] = _("Waited %(n)s min", n=f"{wait:.0f}")
        elif code == "check_in_minutes":
            facts[o] = _("Check-in took %(n)s min", n=f"{check_in or 0:.0f}")
        else:
            kind = _("booked") if orders[o].appointment_id else _("walk-in")
            facts[o] = _("Arrived %(t)s", t=fmt.time(arrived)) + f" · {kind}"
    return facts


async def _quality_facts(
    session: AsyncSession, code: str, ids: tuple[int, ...], orders: dict[int, WorkOrder],
    fmt: Formatter,
) -> dict[int, str]:  # fmt: skip
    first = dict(
        (
            await session.execute(
                select(Inspection.work_order_id, func.min(Inspection.created_at))
                .where(Inspection.work_order_id.in_(ids), Inspection.passed.is_(True))
                .group_by(Inspection.work_order_id)
            )
        ).all()
    )
    failed = set(
        (
            await session.scalars(
                select(Inspection.work_order_id).where(
                    Inspection.work_order_id.in_(ids), Inspection.passed.is_(False)
                )
            )
        ).all()
    )
    complained = set(
        (
            await session.scalars(
                select(Complaint.work_order_id).where(Complaint.work_order_id.in_(ids))
            )
        ).all()
    ) | set(
        (
            await session.scalars(
                select(ComplaintOrder.work_order_id).where(ComplaintOrder.work_order_id.in_(ids))
            )
        ).all()
    )
    promised: dict[int, datetime | None] = {}
    if code == "promise_kept":  # the time last agreed with the customer, as the figure
        found = await session.execute(
            select(WorkOrder.id, promised_time()).where(WorkOrder.id.in_(ids))
        )
        promised = dict(found.tuples().all())
    facts = {}
    for o in ids:
        order = orders[o]
        if code == "promise_kept":
            ready = first.get(o) or order.delivered_at
            facts[o] = _("Promised %(p)s · ready %(r)s",
                         p=fmt.time(promised.get(o)), r=fmt.time(ready))  # fmt: skip
        elif code == "finished":
            facts[o] = _("Passed the final check %(t)s", t=fmt.time(first.get(o)))
        elif o in failed:
            facts[o] = _("Failed a final check")
        elif code == "first_time_fix" and o in complained:
            facts[o] = _("A complaint names this order")
        else:
            facts[o] = _("Passed the first final check")
    return facts


async def _other_facts(
    session: AsyncSession, code: str, ids: tuple[int, ...], orders: dict[int, WorkOrder],
    shop: Dealership, fmt: Formatter,
) -> dict[int, str]:  # fmt: skip
    if code == "bill_matches":
        amounts = await labour.bill_amounts(session, list(ids), shop)
        return {
            o: _("Estimate %(e)s · bill %(b)s", e=fmt.money(estimate), b=fmt.money(bill))
            for o, (estimate, bill) in amounts.items()
            if estimate is not None
        }
    if code in FOLLOW_UPS:
        rows = await session.execute(
            select(FollowUpTask.work_order_id, FollowUpTask.deadline_at,
                   func.min(FollowUpAttempt.called_at))
            .outerjoin(FollowUpAttempt, FollowUpAttempt.task_id == FollowUpTask.id)
            .where(FollowUpTask.work_order_id.in_(ids),
                   FollowUpTask.reason == FollowUpReason.DELIVERY.value)
            .group_by(FollowUpTask.work_order_id, FollowUpTask.deadline_at)
        )  # fmt: skip
        return {
            o: _("Due %(d)s", d=fmt.datetime(due))
            + " · "
            + (_("first call %(t)s", t=fmt.datetime(called)) if called else _("not called yet"))
            for o, due, called in rows.all()
            if o is not None
        }
    if code == "signed":
        return {o: _("Signed %(t)s", t=fmt.time(orders[o].signed_at)) for o in ids}
    return {
        o: _("Delivered %(t)s", t=fmt.datetime(orders[o].delivered_at))
        for o in ids
        if orders[o].delivered_at is not None
    }


def _advisor(order: WorkOrder) -> str:
    return order.advisor.display_name if order.advisor is not None else ""


async def rows(
    session: AsyncSession, figure: Figure, shop: Dealership, fmt: Formatter
) -> list[Row]:
    ids = figure.order_ids
    if not ids:
        return []
    found = (await session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)))).unique()
    orders = {order.id: order for order in found.all()}
    facts = await _facts(session, figure, orders, shop, fmt)
    waits = (
        {o: w for o, (_a, w, _c) in (await _minutes(session, ids)).items()}
        if figure.code == "greeting_minutes"
        else {}
    )
    against = against_count(figure, shop.greeting_minutes, waits)
    return [
        Row(
            order_id=o,
            number=orders[o].number,
            plate=orders[o].vehicle.plate,
            customer=orders[o].customer.name,
            advisor=_advisor(orders[o]),
            fact=facts.get(o, ""),
            against=index < against,
        )
        for index, o in enumerate(ids)
        if o in orders
    ]
