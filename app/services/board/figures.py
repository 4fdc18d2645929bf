"""The board's figures for a scope (a period, optionally one advisor or one technician),
counted from the records by a handful of batched queries: never one query per order.

Each figure has a value, the counts it is made of ("2 of 3"), a direction and the work
orders behind it for the drill-down (for a share, the ones that count against it first).
The definitions are the contract shared with the daily summary and the monthly report;
see /work/shared or the common brief. The money and labour figures are in `labour`.

Each section is a fetch (`read`: the period's rows, a person's scope filtered in SQL) and
an aggregation (`of`: rows -> figures). compute() is the two; compute_by() shares the
whole dealership's rows out to each advisor or technician, and compute_parts()/per_day()
filter the period's rows to each day or week, both through the same aggregation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
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
    JobTask,
    WorkOrder,
)
from app.services.board import labour
from app.services.board.labour import Entry
from app.services.board.labour import Rows as LabourRows
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
    share_out,
    technician_orders,
)
from app.services.reports.period import Period
from app.services.reports.period import days as period_days

__all__ = [
    "CODES", "LOWER_IS_BETTER", "UNITS", "Figure", "Rows", "Scope", "compute", "compute_by",
    "compute_parts", "of", "per_day", "read",
]  # fmt: skip

Record = Any  # a result row, read by its columns' names

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


@dataclass(frozen=True)
class Rows:
    """The records behind a scope's lane, workshop and after-delivery figures, each with
    the work order it belongs to, in the order the figures list them."""

    arrivals: list[Record]  # id, appointment_id, arrived_at, started_at, completed_at
    signed: list[Record]  # id, signed_at
    finished: list[Record]  # id, at (its first passed final check)
    first_rounds: list[Record]  # id, passed, at: first final checks in inspection order
    delivered: list[Record]  # id, promised_at (the last agreed), delivered_at, at
    failed: set[int]  # delivered orders with a failed final check
    complained: set[int]  # delivered orders a complaint names
    calls: list[Record]  # id, work_order_id, deadline_at
    first_tries: dict[int, datetime]  # follow-up task -> first call
    complaints: list[Record]  # severity, work_order_id, id, advisor_id, received_at, closed_at
    labour: LabourRows

    def split(
        self,
        order: Callable[[int], Iterable[int]],
        complaint: Callable[[Record], Iterable[int]],
        entry: Callable[[Entry], Iterable[int]],
    ) -> dict[int, Rows]:
        """Each person's part of the whole dealership's rows (order: the people an order
        counts for; complaint and entry: a complaint's, a clock entry's), in one pass."""
        arrivals = share_out(self.arrivals, lambda r: order(r.id))
        signed = share_out(self.signed, lambda r: order(r.id))
        finished = share_out(self.finished, lambda r: order(r.id))
        first_rounds = share_out(self.first_rounds, lambda r: order(r.id))
        delivered = share_out(self.delivered, lambda r: order(r.id))
        calls = share_out(self.calls, lambda c: order(c.work_order_id))
        complaints = share_out(self.complaints, complaint)
        labours = self.labour.split(order, entry)
        everyone = {*arrivals, *signed, *finished, *first_rounds, *delivered, *calls,
                    *complaints, *labours}  # fmt: skip
        nothing = LabourRows([], {}, [], self.labour.technicians)
        return {
            person: Rows(
                arrivals=arrivals.get(person, []),
                signed=signed.get(person, []),
                finished=finished.get(person, []),
                first_rounds=first_rounds.get(person, []),
                delivered=delivered.get(person, []),
                failed=self.failed,
                complained=self.complained,
                calls=calls.get(person, []),
                first_tries=self.first_tries,
                complaints=complaints.get(person, []),
                labour=labours.get(person, nothing),
            )
            for person in everyone
        }

    def within(self, part: Period) -> Rows:
        """The rows of a part of the period (a day, a week) that the part's own rows would
        be: each stated timestamp within the part; the complaints and clock entries as they
        are (the aggregation keeps those of its period)."""

        def inside(at: datetime | None) -> bool:
            return at is not None and part.starts_at <= at < part.ends_at

        delivered = [r for r in self.delivered if inside(r.delivered_at)]
        orders = {r.id for r in delivered}
        return Rows(
            arrivals=[r for r in self.arrivals if inside(r.arrived_at)],
            signed=[r for r in self.signed if inside(r.signed_at)],
            finished=[r for r in self.finished if inside(r.at)],
            first_rounds=[r for r in self.first_rounds if inside(r.at)],
            delivered=delivered,
            failed=self.failed,
            complained=self.complained,
            calls=[c for c in self.calls if inside(c.deadline_at)],
            first_tries=self.first_tries,
            complaints=self.complaints,
            labour=self.labour.of_orders(orders),
        )

    def order_ids(self) -> set[int]:
        """Every work order the rows name."""
        return {
            *(r.id for r in self.arrivals), *(r.id for r in self.signed),
            *(r.id for r in self.finished), *(r.id for r in self.first_rounds),
            *(r.id for r in self.delivered),
            *(c.work_order_id for c in self.calls),
            *(c.work_order_id for c in self.complaints if c.work_order_id is not None),
            *(line.order_id for line in self.labour.lines),
            *(e.order_id for e in self.labour.entries),
        }  # fmt: skip


async def _reception_rows(session: AsyncSession, scope: Scope) -> list[Record]:
    return list(
        (
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
    )


def _reception(rows: list[Record], shop: Dealership) -> list[Figure]:
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


async def _workshop_rows(
    session: AsyncSession, scope: Scope
) -> tuple[list[Record], list[Record], list[Record], list[Record], set[int], set[int]]:
    """Signed, finished, first rounds, delivered, failed and complained-about orders."""
    period = scope.period
    signed = (
        await session.execute(
            select(WorkOrder.id, WorkOrder.signed_at)
            .where(in_period(WorkOrder.signed_at, period), *order_scope(scope))
            .order_by(WorkOrder.signed_at, WorkOrder.id)
        )
    ).all()
    # The first passed check of each order, read through the time index: a passed check in
    # the period with no passed check before it (not every order's checks grouped).
    earlier = aliased(Inspection)
    finished = (
        await session.execute(
            select(Inspection.work_order_id.label("id"), Inspection.created_at.label("at"))
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
            select(Inspection.work_order_id.label("id"), Inspection.passed,
                   Inspection.created_at.label("at"))
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
    return (
        list(signed), list(finished), list(first_rounds), list(delivered),
        failed, {o for o in complained if o is not None},
    )  # fmt: skip


def _workshop(rows: Rows) -> list[Figure]:
    delivered = rows.delivered
    promised = [r for r in delivered if r.promised_at is not None]
    kept = {r.id for r in promised if (r.at or r.delivered_at) <= r.promised_at}
    fixed = {r.id for r in delivered if r.id not in rows.failed and r.id not in rows.complained}
    first_round: dict[int, bool] = {}
    for check in rows.first_rounds:
        first_round.setdefault(check.id, check.passed)
    return [
        count("signed", [r.id for r in rows.signed]),
        count("finished", [r.id for r in rows.finished]),
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


async def _after_delivery_rows(
    session: AsyncSession, scope: Scope
) -> tuple[list[Record], dict[int, datetime], list[Record]]:
    """The delivery calls due in the period, their first tries, the complaints open."""
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
        )
        .tuples()
        .all()
    )
    # Open at the end of some day of the period (`_after_delivery` keeps those open at
    # its end), so that the period's rows serve each of its days too.
    complaint_where: list[ColumnElement[bool]] = [
        Complaint.received_at < period.ends_at,
        or_(Complaint.closed_at.is_(None), Complaint.closed_at > period.starts_at),
    ]
    if scope.advisor_id is not None:
        complaint_where.append(Complaint.advisor_id == scope.advisor_id)
    if scope.technician_id is not None:
        complaint_where.append(Complaint.work_order_id.in_(technician_orders(scope.technician_id)))
    complaints = (
        await session.execute(
            select(
                Complaint.severity,
                Complaint.work_order_id,
                Complaint.id,
                Complaint.advisor_id,
                Complaint.received_at,
                Complaint.closed_at,
            )
            .where(*complaint_where)
            .order_by(Complaint.received_at, Complaint.id)
        )
    ).all()
    return list(calls), first_tries, list(complaints)


def _after_delivery(rows: Rows, period: Period) -> list[Figure]:
    calls, first_tries = rows.calls, rows.first_tries
    in_time = {c.id for c in calls if c.id in first_tries and first_tries[c.id] <= c.deadline_at}
    on_time = [c.work_order_id for c in calls if c.id in in_time]
    late = [c.work_order_id for c in calls if c.id not in in_time]
    by_severity: dict[str, list[int]] = {code: [] for code in SEVERITY_CODES.values()}
    counted: dict[str, int] = dict.fromkeys(SEVERITY_CODES.values(), 0)
    for complaint in rows.complaints:
        if complaint.received_at >= period.ends_at or (
            complaint.closed_at is not None and complaint.closed_at < period.ends_at
        ):
            continue  # not received yet, or closed, when the period ended
        code = SEVERITY_CODES.get(complaint.severity, "complaints_general")
        counted[code] += 1
        if complaint.work_order_id is not None:
            by_severity[code].append(complaint.work_order_id)
    return [
        count("follow_ups_due", [c.work_order_id for c in calls]),
        share("follow_ups_on_time", on_time, late),
        *(
            Figure(code, counted[code], None, None, COUNT, True, tuple(by_severity[code]))
            for code in SEVERITY_CODES.values()
        ),
    ]


async def read(session: AsyncSession, scope: Scope, shop: Dealership, now: datetime) -> Rows:
    """The scope's records, a person's filtered in SQL: a handful of batched queries."""
    signed, finished, first_rounds, delivered, failed, complained = await _workshop_rows(
        session, scope
    )
    calls, first_tries, complaints = await _after_delivery_rows(session, scope)
    return Rows(
        arrivals=await _reception_rows(session, scope),
        signed=signed,
        finished=finished,
        first_rounds=first_rounds,
        delivered=delivered,
        failed=failed,
        complained=complained,
        calls=calls,
        first_tries=first_tries,
        complaints=complaints,
        labour=await labour.rows(session, scope, shop, now),
    )


def of(rows: Rows, scope: Scope, shop: Dealership, now: datetime) -> dict[str, Figure]:
    """Every figure of the scope from its rows, in the board's order (CODES)."""
    found = [
        *_reception(rows.arrivals, shop),
        *_workshop(rows),
        *_after_delivery(rows, scope.period),
        *labour.figures(rows.labour, scope, shop, now),
    ]
    by_code = {f.code: f for f in found}
    return {code: by_code[code] for code in CODES}


async def compute(
    session: AsyncSession, scope: Scope, shop: Dealership, now: datetime
) -> dict[str, Figure]:
    """Every figure of the scope, in the board's order (CODES)."""
    return of(await read(session, scope, shop, now), scope, shop, now)


# Orders sent as parameters at most this many at a time (SQLite and PostgreSQL limits).
_CHUNK = 900


async def _owners(session: AsyncSession, order_ids: set[int], by: str) -> dict[int, set[int]]:
    """Order -> the people it counts for: its advisor, or the technicians of its tasks."""
    owners: dict[int, set[int]] = defaultdict(set)
    ordered = sorted(order_ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        if by == "advisor":
            query = select(WorkOrder.id, WorkOrder.advisor_id).where(WorkOrder.id.in_(chunk))
        else:
            query = select(JobTask.work_order_id, JobTask.technician_id).where(
                JobTask.work_order_id.in_(chunk)
            )
        for order_id, person in (await session.execute(query)).tuples():
            if person is not None:
                owners[order_id].add(person)
    return owners


async def compute_by(
    session: AsyncSession,
    period: Period,
    shop: Dealership,
    now: datetime,
    by: str,
    people: Iterable[int] = (),
    rows: Rows | None = None,
) -> dict[int, dict[str, Figure]]:
    """Each person's figures for the period, by = "advisor" or "technician": for each one
    with anything in the period (and each of `people`), exactly what compute() gives for
    Scope(period, advisor_id=…) or Scope(period, technician_id=…), but from the whole
    dealership's rows read once and shared out, not a handful of queries per person
    (`rows`: the period's rows already read for the whole dealership)."""
    if by not in ("advisor", "technician"):
        raise ValueError(f"compute_by: by is 'advisor' or 'technician', not {by!r}")
    everyone = rows if rows is not None else await read(session, Scope(period), shop, now)
    owners = await _owners(session, everyone.order_ids(), by)

    def order(o: int) -> Iterable[int]:
        return owners.get(o, ())

    def complaint(c: Record) -> Iterable[int]:
        # The complaint's own advisor; the technicians of the order it names.
        if by == "advisor":
            return () if c.advisor_id is None else (c.advisor_id,)
        return () if c.work_order_id is None else order(c.work_order_id)

    def entry(e: Entry) -> Iterable[int]:
        # An advisor's orders' clocked time; a technician's own clock.
        return order(e.order_id) if by == "advisor" else (e.technician_id,)

    shared = everyone.split(order, complaint, entry)
    nothing = Rows([], [], [], [], [], set(), set(), [], {}, [],
                    LabourRows([], {}, [], everyone.labour.technicians))  # fmt: skip
    return {
        person: of(shared.get(person, nothing), Scope(period, **{f"{by}_id": person}), shop, now)
        for person in sorted({*shared, *people})
    }


async def per_day(
    session: AsyncSession,
    period: Period,
    shop: Dealership,
    now: datetime,
    advisor_id: int | None = None,
    technician_id: int | None = None,
    *,
    tz: ZoneInfo,
    rows: Rows | None = None,
) -> dict[date, dict[str, Figure]]:
    """The figures of each day of the period up to today (the monthly report's trend),
    each day a local day in `tz` (settings.tz); the period's rows read once."""
    today = now.astimezone(tz).date()
    parts = []
    day = period.first
    while day <= min(period.last, today):
        parts.append(period_days(day, day, tz))
        day += timedelta(days=1)
    found = await compute_parts(
        session, period, parts, shop, now, advisor_id, technician_id, rows=rows
    )
    return {part.first: figures for part, figures in zip(parts, found, strict=True)}


async def compute_parts(
    session: AsyncSession,
    period: Period,
    parts: list[Period],
    shop: Dealership,
    now: datetime,
    advisor_id: int | None = None,
    technician_id: int | None = None,
    rows: Rows | None = None,
) -> list[dict[str, Figure]]:
    """What compute() gives for each part of the period (its days, its weeks: each within
    the period), from the period's rows read once rather than a handful of queries a part
    (`rows`: those already read for the same scope)."""
    if rows is None:
        rows = await read(session, Scope(period, advisor_id, technician_id), shop, now)
    return [
        of(rows.within(part), Scope(part, advisor_id, technician_id), shop, now) for part in parts
    ]
