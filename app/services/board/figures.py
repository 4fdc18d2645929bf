"""The board's figures for a scope (a period, optionally one advisor or one technician),
counted from the records by a handful of batched queries: never one query per order.

Each figure has a value, the counts it is made of ("2 of 3"), a direction and the work
orders behind it for the drill-down (for a share, the ones that count against it first).
The definitions are the contract shared with the daily summary and the monthly report;
see /work/shared or the common brief. The money and labour figures are in `labour`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import (
    CheckIn,
    Complaint,
    ComplaintOrder,
    Dealership,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    Inspection,
    WorkOrder,
)
from app.services.board import labour
from app.services.board.scope import (
    COUNT,
    LOWER_IS_BETTER,
    SEVERITY_CODES,
    Figure,
    Scope,
    count,
    delivered_orders,
    in_period,
    median_minutes,
    minutes,
    order_scope,
    promised_time,
    share,
    technician_orders,
)
from app.services.reports.period import Period
from app.services.reports.period import days as period_days

__all__ = ["CODES", "LOWER_IS_BETTER", "UNITS", "Figure", "Scope", "compute", "per_day"]

# The board's order: the lane (reception), the workshop, after delivery, labour, money.
CODES: tuple[str, ...] = (
    "arrivals",
    "booked",
    "walk_in",
    "appointment_rate",
    "greeting_minutes",
    "greeted_in_time",
    "check_in_minutes",
    "signed",
    "finished",
    "delivered",
    "promise_kept",
    "bill_matches",
    "rework_rate",
    "first_time_fix",
    "follow_ups_due",
    "follow_ups_on_time",
    "complaints_general",
    "complaints_escalated",
    "complaints_serious",
    "hours_sold",
    "hours_clocked",
    "hours_available",
    "utilisation",
    "productivity",
    "labour_revenue",
    "parts_revenue",
)

_PERCENT = ("appointment_rate", "greeted_in_time", "promise_kept", "bill_matches", "rework_rate",
            "first_time_fix", "follow_ups_on_time", "utilisation", "productivity")  # fmt: skip
# Each figure's unit, known before counting (the targets form).
UNITS: dict[str, str] = {
    **dict.fromkeys(CODES, "count"),
    **dict.fromkeys(_PERCENT, "percent"),
    **dict.fromkeys(("greeting_minutes", "check_in_minutes"), "minutes"),
    **dict.fromkeys(("hours_sold", "hours_clocked", "hours_available"), "hours"),
    **dict.fromkeys(("labour_revenue", "parts_revenue"), "money"),
}


async def _reception(session: AsyncSession, scope: Scope, shop: Dealership) -> list[Figure]:
    rows = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.appointment_id,
                CheckIn.arrived_at,
                CheckIn.started_at,
                CheckIn.completed_at,
            )
            .join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
            .where(in_period(CheckIn.arrived_at, scope.period), *order_scope(scope))
            .order_by(CheckIn.arrived_at, WorkOrder.id)
        )
    ).all()
    arrivals = [r.id for r in rows]
    booked = [r.id for r in rows if r.appointment_id is not None]
    walk_in = [r.id for r in rows if r.appointment_id is None]
    waits = [(r.id, minutes(r.arrived_at, r.started_at)) for r in rows]
    limit = shop.greeting_minutes
    check_ins = [
        (r.id, minutes(r.started_at, r.completed_at)) for r in rows if r.completed_at is not None
    ]
    late = [o for o, m in sorted(waits, key=lambda w: -w[1]) if m > limit]
    return [
        count("arrivals", arrivals),
        count("booked", booked),
        count("walk_in", walk_in),
        share("appointment_rate", booked, walk_in),
        median_minutes("greeting_minutes", waits),
        share("greeted_in_time", [o for o, m in waits if m <= limit], late),
        median_minutes("check_in_minutes", check_ins),
    ]


async def _workshop(session: AsyncSession, scope: Scope) -> list[Figure]:
    period = scope.period
    signed = (
        await session.scalars(
            select(WorkOrder.id)
            .where(in_period(WorkOrder.signed_at, period), *order_scope(scope))
            .order_by(WorkOrder.signed_at, WorkOrder.id)
        )
    ).all()
    # The first passed check of each order, read through the time index: a passed check in
    # the period with no passed check before it (not every order's checks grouped).
    earlier = aliased(Inspection)
    finished = (
        await session.scalars(
            select(Inspection.work_order_id)
            .join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
            .where(
                Inspection.passed.is_(True),
                in_period(Inspection.created_at, period),
                ~select(earlier.id)
                .where(
                    earlier.work_order_id == Inspection.work_order_id,
                    earlier.passed.is_(True),
                    earlier.created_at < Inspection.created_at,
                )
                .exists(),
                *order_scope(scope),
            )
            .order_by(Inspection.created_at, Inspection.work_order_id)
        )
    ).all()
    first_passed = (
        select(func.min(Inspection.created_at))
        .where(Inspection.work_order_id == WorkOrder.id, Inspection.passed.is_(True))
        .correlate(WorkOrder)
        .scalar_subquery()
        .label("at")
    )
    first_rounds = (
        await session.execute(
            select(Inspection.work_order_id, Inspection.passed)
            .join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
            .where(Inspection.round == 1, in_period(Inspection.created_at, period),
                   *order_scope(scope))
            .order_by(Inspection.created_at, Inspection.id)
        )
    ).all()  # fmt: skip
    delivered = (
        await session.execute(
            select(
                WorkOrder.id,
                promised_time().label("promised_at"),
                WorkOrder.delivered_at,
                first_passed,
            )
            .where(WorkOrder.id.in_(delivered_orders(scope)))
            .order_by(WorkOrder.delivered_at, WorkOrder.id)
        )
    ).all()
    failed = set(
        (
            await session.scalars(
                select(Inspection.work_order_id).where(
                    Inspection.passed.is_(False),
                    Inspection.work_order_id.in_(delivered_orders(scope)),
                )
            )
        ).all()
    )
    complained = set(
        (
            await session.scalars(
                select(Complaint.work_order_id).where(
                    Complaint.work_order_id.in_(delivered_orders(scope))
                )
            )
        ).all()
    ) | set(
        (
            await session.scalars(
                select(ComplaintOrder.work_order_id).where(
                    ComplaintOrder.work_order_id.in_(delivered_orders(scope))
                )
            )
        ).all()
    )
    promised = [r for r in delivered if r.promised_at is not None]
    kept = {r.id for r in promised if (r.at or r.delivered_at) <= r.promised_at}
    fixed = {r.id for r in delivered if r.id not in failed and r.id not in complained}
    first_round: dict[int, bool] = {}
    for order_id, passed in first_rounds:
        first_round.setdefault(order_id, passed)
    return [
        count("signed", signed),
        count("finished", finished),
        count("delivered", [r.id for r in delivered]),
        share(
            "promise_kept",
            [r.id for r in promised if r.id in kept],
            [r.id for r in promised if r.id not in kept],
        ),
        share(
            "rework_rate",
            [o for o, passed in first_round.items() if not passed],
            [o for o, passed in first_round.items() if passed],
        ),
        share(
            "first_time_fix",
            [r.id for r in delivered if r.id in fixed],
            [r.id for r in delivered if r.id not in fixed],
        ),
    ]


async def _after_delivery(session: AsyncSession, scope: Scope) -> list[Figure]:
    period = scope.period
    calls = (
        await session.execute(
            select(FollowUpTask.id, FollowUpTask.work_order_id, FollowUpTask.deadline_at)
            .join(WorkOrder, WorkOrder.id == FollowUpTask.work_order_id)
            .where(
                FollowUpTask.reason == FollowUpReason.DELIVERY.value,
                FollowUpTask.call_allowed.is_(True),
                FollowUpTask.status != FollowUpStatus.DECLINED.value,
                in_period(FollowUpTask.deadline_at, period),
                *order_scope(scope),
            )
            .order_by(FollowUpTask.deadline_at, FollowUpTask.id)
        )
    ).all()
    first_tries = dict(
        (
            await session.execute(
                select(FollowUpAttempt.task_id, func.min(FollowUpAttempt.called_at))
                .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
                .join(WorkOrder, WorkOrder.id == FollowUpTask.work_order_id)
                .where(
                    FollowUpTask.reason == FollowUpReason.DELIVERY.value,
                    in_period(FollowUpTask.deadline_at, period),
                    *order_scope(scope),
                )
                .group_by(FollowUpAttempt.task_id)
            )
        ).all()
    )
    in_time = {c.id for c in calls if c.id in first_tries and first_tries[c.id] <= c.deadline_at}
    on_time = [c.work_order_id for c in calls if c.id in in_time]
    late = [c.work_order_id for c in calls if c.id not in in_time]
    complaint_where: list[ColumnElement[bool]] = [
        Complaint.received_at < period.ends_at,
        or_(Complaint.closed_at.is_(None), Complaint.closed_at >= period.ends_at),
    ]
    if scope.advisor_id is not None:
        complaint_where.append(Complaint.advisor_id == scope.advisor_id)
    if scope.technician_id is not None:
        complaint_where.append(Complaint.work_order_id.in_(technician_orders(scope.technician_id)))
    complaints = (
        await session.execute(
            select(Complaint.severity, Complaint.work_order_id, Complaint.id)
            .where(*complaint_where)
            .order_by(Complaint.received_at, Complaint.id)
        )
    ).all()
    by_severity: dict[str, list[int]] = {code: [] for code in SEVERITY_CODES.values()}
    counted: dict[str, int] = dict.fromkeys(SEVERITY_CODES.values(), 0)
    for severity, order_id, _id in complaints:
        code = SEVERITY_CODES.get(severity, "complaints_general")
        counted[code] += 1
        if order_id is not None:
            by_severity[code].append(order_id)
    return [
        count("follow_ups_due", [c.work_order_id for c in calls]),
        share("follow_ups_on_time", on_time, late),
        *(
            Figure(code, counted[code], None, None, COUNT, True, tuple(by_severity[code]))
            for code in SEVERITY_CODES.values()
        ),
    ]


async def compute(
    session: AsyncSession, scope: Scope, shop: Dealership, now: datetime
) -> dict[str, Figure]:
    """Every figure of the scope, in the board's order (CODES)."""
    found = [
        *await _reception(session, scope, shop),
        *await _workshop(session, scope),
        *await _after_delivery(session, scope),
        *await labour.figures(session, scope, shop, now),
    ]
    by_code = {f.code: f for f in found}
    return {code: by_code[code] for code in CODES}


async def per_day(
    session: AsyncSession,
    period: Period,
    shop: Dealership,
    now: datetime,
    advisor_id: int | None = None,
    technician_id: int | None = None,
    *,
    tz: ZoneInfo,
) -> dict[date, dict[str, Figure]]:
    """The figures of each day of the period up to today (the monthly report's trend),
    each day a local day in `tz` (settings.tz); a handful of queries a day."""
    today = now.astimezone(tz).date()
    result: dict[date, dict[str, Figure]] = {}
    day = period.first
    while day <= min(period.last, today):
        scope = Scope(period_days(day, day, tz), advisor_id, technician_id)
        result[day] = await compute(session, scope, shop, now)
        day += timedelta(days=1)
    return result
