"""The board's labour and money figures: hours sold, clocked and available, utilisation,
productivity, labour and parts revenue, and whether the bill matched the estimate.

Lines count when their job was not declined and is on the signed order or on added work
the customer approved; warranty jobs count too (the manufacturer pays for them). A
technician's scope counts their own jobs and clocked time only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Dealership,
    Job,
    JobLine,
    JobTask,
    LineKind,
    Role,
    Signature,
    SignatureKind,
    StaffRole,
    StaffUser,
    Supplement,
    SupplementStatus,
    TimeEntry,
    WorkOrder,
)
from app.services.board.scope import (
    HOURS,
    MONEY,
    PERCENT,
    Figure,
    Scope,
    delivered_orders,
    share,
    share_out,
)

CENT = Decimal("0.01")
# A closed clock entry longer than this is a clock left running, not a job's time.
LONGEST_ENTRY = timedelta(days=2)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(part: Decimal | None, whole: Decimal | None) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part * 100 / whole), 1)


@dataclass(frozen=True)
class Line:
    order_id: int
    supplement_id: int | None  # None: on the signed order
    warranty: bool
    kind: str
    quantity: Decimal
    unit_price: Decimal
    technician_id: int | None

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


class _Totals:
    """One priced block of jobs (the order's own, or one approved supplement), added up the
    way the estimate is (services.estimate.pricing.compute_totals): each line rounded to
    the cent, warranty not charged, the discount off the subtotal, then tax."""

    def __init__(self) -> None:
        self.charged = Decimal("0.00")

    def add(self, amount: Decimal, warranty: bool) -> None:
        if not warranty:
            self.charged += amount

    def total(self, discount: Decimal, tax_rate: Decimal) -> Decimal:
        off = min(money(discount), self.charged)
        return self.charged - off + money((self.charged - off) * tax_rate)


async def bill_amounts(
    session: AsyncSession,
    orders: Select[int] | list[int],
    shop: Dealership,
    lines: list[Line] | None = None,
) -> dict[int, tuple[Decimal | None, Decimal]]:
    """Order -> (the signed estimate, None if never signed; the bill now), for the orders
    `orders` (a subquery or a short list), in delivery order."""
    rows = await session.execute(
        select(WorkOrder.id, WorkOrder.discount_amount)
        .where(WorkOrder.id.in_(orders))
        .order_by(WorkOrder.delivered_at, WorkOrder.id)
    )
    discounts: dict[int, Decimal] = dict(rows.all())
    estimates: dict[int, Decimal] = {}
    for order_id, content in (
        await session.execute(
            select(Signature.work_order_id, Signature.content)
            .where(
                Signature.kind == SignatureKind.WORK_ORDER.value,
                Signature.work_order_id.in_(orders),
            )
            .order_by(Signature.id)
        )
    ).all():
        estimates[order_id] = Decimal(json.loads(content)["totals"]["total"])  # the last signed
    if lines is None:
        lines = await _lines(session, orders)
    blocks: dict[tuple[int, int | None], _Totals] = defaultdict(_Totals)
    for line in lines:
        blocks[(line.order_id, line.supplement_id)].add(line.amount, line.warranty)
    bills: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for (order_id, supplement_id), block in blocks.items():
        discount = discounts.get(order_id, Decimal("0")) if supplement_id is None else Decimal("0")
        bills[order_id] += block.total(discount, shop.tax_rate)
    return {o: (estimates.get(o), bills.get(o, Decimal("0.00"))) for o in discounts}


def bill_within(estimate: Decimal, bill: Decimal, shop: Dealership) -> bool:
    return abs(bill - estimate) <= estimate * shop.bill_tolerance_percent / 100


def _bill_matches(amounts: dict[int, tuple[Decimal | None, Decimal]], shop: Dealership) -> Figure:
    good: list[int] = []
    bad: list[int] = []
    for order_id, (estimate, bill) in amounts.items():
        if estimate is None:
            continue  # never signed: nothing to compare the bill with
        (good if bill_within(estimate, bill, shop) else bad).append(order_id)
    return share("bill_matches", good, bad)


async def _lines(session: AsyncSession, orders: Select[int] | list[int]) -> list[Line]:
    """(order, supplement, warranty, kind, quantity, unit price, technician) of every line
    that counts on the orders delivered in the period."""
    rows = (
        await session.execute(
            select(
                Job.work_order_id,
                Job.supplement_id,
                Job.warranty,
                JobLine.kind,
                JobLine.quantity,
                JobLine.unit_price,
                JobTask.technician_id,
            )
            .join(Job, Job.id == JobLine.job_id)
            .outerjoin(Supplement, Supplement.id == Job.supplement_id)
            .outerjoin(JobTask, JobTask.job_id == Job.id)
            .where(
                Job.work_order_id.in_(orders),
                Job.declined_at.is_(None),
                or_(
                    Job.supplement_id.is_(None),
                    Supplement.status == SupplementStatus.APPROVED.value,
                ),
            )
            .order_by(Job.work_order_id, JobLine.id)
        )
    ).all()
    return [Line(*row) for row in rows]


@dataclass(frozen=True)
class Entry:
    """A clock entry that may fall within the period (a running one has no finish)."""

    order_id: int
    started_at: datetime
    finished_at: datetime | None
    technician_id: int


async def _entries(session: AsyncSession, scope: Scope, now: datetime) -> list[Entry]:
    """The clock entries that may overlap the period (a running clock up to now)."""
    period = scope.period
    until = min(period.ends_at, now)
    # Read through the start time's index: a closed entry started at most LONGEST_ENTRY
    # before the period, or a clock still running however long ago it started.
    lookback = period.starts_at - LONGEST_ENTRY
    scoped: list[ColumnElement[bool]] = []
    if scope.technician_id is not None:
        scoped.append(TimeEntry.technician_id == scope.technician_id)
    if scope.advisor_id is not None:
        scoped.append(WorkOrder.advisor_id == scope.advisor_id)
    entries = (
        select(JobTask.work_order_id, TimeEntry.started_at, TimeEntry.finished_at,
               TimeEntry.technician_id)
        .join(JobTask, JobTask.id == TimeEntry.task_id)
        .join(WorkOrder, WorkOrder.id == JobTask.work_order_id)
        .order_by(TimeEntry.started_at, TimeEntry.id)
    )  # fmt: skip
    # Two look-ups, so each reads an index: the entries started shortly before or in the
    # period, and the clocks still running that started before that (one a technician).
    recent = entries.where(
        TimeEntry.started_at >= lookback,
        TimeEntry.started_at < until,
        or_(TimeEntry.finished_at.is_(None), TimeEntry.finished_at > period.starts_at),
        *scoped,
    )
    # Only "running" in SQL: the running-clock index holds just those few rows.
    running = entries.where(TimeEntry.finished_at.is_(None), *scoped)
    return [
        *(Entry(*row) for row in (await session.execute(recent)).all()),
        *(Entry(*row) for row in (await session.execute(running)).all() if row[1] < lookback),
    ]


def _clocked(entries: list[Entry], scope: Scope, now: datetime) -> tuple[Decimal, tuple[int, ...]]:
    """Clocked hours within the period (a running clock counts up to now), and the orders
    worked on, the most clocked first."""
    period = scope.period
    until = min(period.ends_at, now)
    lookback = period.starts_at - LONGEST_ENTRY
    seconds: dict[int, float] = defaultdict(float)
    for entry in entries:
        if entry.finished_at is not None and entry.started_at < lookback:
            continue  # a clock left running for days and closed: not read (see _entries)
        start = max(entry.started_at, period.starts_at)
        end = min(entry.finished_at or now, until)
        if end > start:
            seconds[entry.order_id] += (end - start).total_seconds()
    total = Decimal(str(sum(seconds.values()))) / 3600
    ordered = tuple(sorted(seconds, key=lambda o: (-seconds[o], o)))
    return total.quantize(CENT, rounding=ROUND_HALF_UP), ordered


def days_so_far(scope: Scope, now: datetime) -> int:
    """The period's days up to and including today (a future day counts none)."""
    period = scope.period
    whole = (period.last - period.first).days + 1
    if now >= period.ends_at:
        return whole
    if now < period.starts_at:
        return 0
    return min(whole, (now - period.starts_at) // timedelta(days=1) + 1)


async def _technicians(session: AsyncSession) -> int:
    """The technicians on the staff (active)."""
    found = await session.scalar(
        select(func.count(StaffUser.id))
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == Role.TECHNICIAN, StaffUser.is_active.is_(True))
    )
    return found or 0


def _available(scope: Scope, technicians: int, shop: Dealership, now: datetime) -> Decimal | None:
    """Technicians on the staff × their hours a day × the days so far; None for an
    advisor's scope (the workshop's hours are nobody's in particular)."""
    if scope.advisor_id is not None:
        return None
    if scope.technician_id is not None:
        technicians = 1
    return money(technicians * shop.technician_hours_per_day * days_so_far(scope, now))


@dataclass(frozen=True)
class Rows:
    """The records behind the labour and money figures of a period: the lines and bills
    of the orders delivered in it, the clock entries that may overlap it, and the
    technicians on the staff."""

    lines: list[Line]
    bills: dict[int, tuple[Decimal | None, Decimal]]  # in delivery order
    entries: list[Entry]
    technicians: int

    def split(
        self, order: Callable[[int], Iterable[int]], entry: Callable[[Entry], Iterable[int]]
    ) -> dict[int, Rows]:
        """Each person's part of the rows (order: an order's people; entry: a clock
        entry's), in one pass; a person with none of them is left out."""
        lines = share_out(self.lines, lambda line: order(line.order_id))
        bills = share_out(self.bills.items(), lambda item: order(item[0]))
        entries = share_out(self.entries, entry)
        return {
            person: Rows(lines.get(person, []), dict(bills.get(person, [])),
                         entries.get(person, []), self.technicians)
            for person in {*lines, *bills, *entries}
        }  # fmt: skip

    def of_orders(self, orders: set[int]) -> Rows:
        """The lines and bills of these orders (delivered in a part of the period)."""
        return Rows(
            [line for line in self.lines if line.order_id in orders],
            {o: amounts for o, amounts in self.bills.items() if o in orders},
            self.entries,
            self.technicians,
        )


async def rows(session: AsyncSession, scope: Scope, shop: Dealership, now: datetime) -> Rows:
    """The scope's rows: a person's scope filters them in SQL (or use `Rows.only`)."""
    lines = await _lines(session, delivered_orders(scope))
    whole_shop = scope.advisor_id is None and scope.technician_id is None
    return Rows(
        lines,
        await bill_amounts(session, delivered_orders(scope), shop, lines),
        await _entries(session, scope, now),
        await _technicians(session) if whole_shop else 0,
    )


def figures(found: Rows, scope: Scope, shop: Dealership, now: datetime) -> list[Figure]:
    """The labour and money figures of the scope, from its rows."""
    mine = [line for line in found.lines if scope.technician_id in (None, line.technician_id)]
    sold = Decimal("0.00")
    labour = parts = Decimal("0.00")
    sold_by: dict[int, Decimal] = defaultdict(Decimal)
    money_by: dict[int, Decimal] = defaultdict(Decimal)
    for line in mine:
        money_by[line.order_id] += line.amount
        if line.kind == LineKind.LABOUR.value:
            sold += line.quantity
            sold_by[line.order_id] += line.quantity
            labour += line.amount
        else:
            parts += line.amount
    clocked, worked = _clocked(found.entries, scope, now)
    available = _available(scope, found.technicians, shop, now)
    by_sold = tuple(sorted(sold_by, key=lambda o: -sold_by[o]))
    by_money = tuple(sorted(money_by, key=lambda o: -money_by[o]))
    return [
        _bill_matches(found.bills, shop),
        Figure("hours_sold", money(sold), None, None, HOURS, False, by_sold),
        Figure("hours_clocked", clocked, None, None, HOURS, False, worked),
        Figure("hours_available", available, None, None, HOURS, False, ()),
        Figure("utilisation", _ratio(clocked, available), None, None, PERCENT, False, worked),
        Figure("productivity", _ratio(sold, clocked), None, None, PERCENT, False, by_sold),
        Figure("labour_revenue", labour, None, None, MONEY, False, by_money),
        Figure("parts_revenue", parts, None, None, MONEY, False, by_money),
    ]
