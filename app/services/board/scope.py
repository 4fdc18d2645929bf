"""What every board figure is made of: the scope it counts, the figure itself, and the
conditions that pick a scope's orders (shared by `figures` and `labour`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select

from app.models import ComplaintSeverity, JobTask, PromiseChange, WorkOrder
from app.services.reports.period import Period

T = TypeVar("T")

COUNT, PERCENT, MINUTES, HOURS, MONEY = "count", "percent", "minutes", "hours", "money"

# Lower is better for these; higher for every other figure.
LOWER_IS_BETTER = frozenset(
    {
        "greeting_minutes",
        "check_in_minutes",
        "rework_rate",
        "complaints_general",
        "complaints_escalated",
        "complaints_serious",
    }
)
SEVERITY_CODES = {
    ComplaintSeverity.GENERAL.value: "complaints_general",
    ComplaintSeverity.ESCALATED.value: "complaints_escalated",
    ComplaintSeverity.SERIOUS.value: "complaints_serious",
}


@dataclass(frozen=True)
class Scope:
    period: Period
    advisor_id: int | None = None
    technician_id: int | None = None


@dataclass(frozen=True)
class Figure:
    code: str
    value: Decimal | float | int | None  # None: nothing to count (no arrivals, no rate)
    part: int | None  # a share's or a median's counts: "2 of 3" (part of whole)
    whole: int | None
    unit: str  # "count" | "percent" | "minutes" | "hours" | "money"
    lower_is_better: bool
    order_ids: tuple[int, ...]  # the orders behind it; for a share, those against it first


def percent(part: int, whole: int) -> float | None:
    """Part of whole in per cent to one decimal (2 of 3 → 66.7); None when nothing counts."""
    return round(part * 100 / whole, 1) if whole else None


def count(code: str, ids: Iterable[int]) -> Figure:
    listed = tuple(dict.fromkeys(ids))
    return Figure(code, len(listed), None, None, COUNT, code in LOWER_IS_BETTER, listed)


def share(code: str, good: Iterable[int], bad: Iterable[int]) -> Figure:
    """A share of the good among good and bad; the bad ones first for the drill-down."""
    good_ids, bad_ids = tuple(dict.fromkeys(good)), tuple(dict.fromkeys(bad))
    # For a "lower is better" share (rework), the "good" side is what it counts.
    whole = len(good_ids) + len(bad_ids)
    ids = good_ids + bad_ids if code in LOWER_IS_BETTER else bad_ids + good_ids
    return Figure(
        code, percent(len(good_ids), whole), len(good_ids), whole, PERCENT,
        code in LOWER_IS_BETTER, ids,
    )  # fmt: skip


def median_minutes(code: str, samples: list[tuple[int, float]]) -> Figure:
    """The median of (order, minutes), the longest first for the drill-down."""
    ordered = sorted(samples, key=lambda s: -s[1])
    value = round(statistics.median(m for _o, m in ordered), 1) if ordered else None
    return Figure(
        code, value, None, len(ordered), MINUTES, code in LOWER_IS_BETTER,
        tuple(o for o, _m in ordered),
    )  # fmt: skip


def minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def in_period(column: Any, period: Period) -> ColumnElement[bool]:
    """A timestamp column (a model's or a subquery's) within [starts_at, ends_at)."""
    return and_(column >= period.starts_at, column < period.ends_at)


def technician_orders(technician_id: int) -> Select[int]:
    return select(JobTask.work_order_id).where(JobTask.technician_id == technician_id)


def order_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """The conditions on WorkOrder that keep the scope's orders."""
    where: list[ColumnElement[bool]] = []
    if scope.advisor_id is not None:
        where.append(WorkOrder.advisor_id == scope.advisor_id)
    if scope.technician_id is not None:
        where.append(WorkOrder.id.in_(technician_orders(scope.technician_id)))
    return where


def delivered_orders(scope: Scope) -> Select[int]:
    """The ids of the scope's orders delivered in the period, as a subquery: a month's
    orders are too many to send as parameters."""
    return select(WorkOrder.id).where(
        in_period(WorkOrder.delivered_at, scope.period), *order_scope(scope)
    )


def promised_time() -> ColumnElement[datetime]:
    """The time last agreed with the customer, for a query on WorkOrder: the new time of
    the order's latest recorded call (PromiseChange), else the one promised at signing.
    A correlated subquery, so a period's orders still take one query."""
    latest = (
        select(PromiseChange.new_at)
        .where(PromiseChange.work_order_id == WorkOrder.id)
        .order_by(PromiseChange.created_at.desc(), PromiseChange.id.desc())
        .limit(1)
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    return func.coalesce(latest, WorkOrder.promised_at)


def share_out(items: Iterable[T], owners: Callable[[T], Iterable[int]]) -> dict[int, list[T]]:
    """Each person's items, in the items' order: an item goes to each of its owners."""
    found: dict[int, list[T]] = defaultdict(list)
    for item in items:
        for person in owners(item):
            found[person].append(item)
    return found
