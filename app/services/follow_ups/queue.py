"""The follow-up queue: who to call now, in what order, and the counts on the app bar.

Ordered by the day the call is due, rework cars first within a day, then the
customer's preferred window as it stands now (a morning-preferring customer first
in the morning), then the due time. Declined calls are listed apart, counted, and
never called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Complaint,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    WorkOrder,
)

TABS = ("today", "overdue", "upcoming", "done", "declined")
WINDOWS = ("morning", "afternoon", "evening")
# How many closed calls the "done" tab shows (newest first).
DONE_LIMIT = 50


def window_at(moment: datetime, tz: ZoneInfo) -> str:
    """The part of the day `moment` falls in, where the dealership is."""
    hour = moment.astimezone(tz).hour
    if hour < 12:
        return "morning"
    return "afternoon" if hour < 18 else "evening"


def window_rank(preferred: str, now_window: str) -> int:
    """0 for a customer who prefers the window we are in, 1 for any time, then the
    windows still to come today, and last the windows already past."""
    if preferred == now_window:
        return 0
    if preferred not in WINDOWS:
        return 1
    ahead = WINDOWS.index(preferred) > WINDOWS.index(now_window)
    return 2 if ahead else 3


@dataclass
class Row:
    task: FollowUpTask
    order: WorkOrder | None
    attempts: int
    overdue: bool
    due_today: bool
    complaint_number: str = ""

    @property
    def rework(self) -> bool:
        return bool(self.order and self.order.rework_count) or (
            self.task.reason == FollowUpReason.REWORK.value
        )

    @property
    def plate(self) -> str:
        return self.order.vehicle.plate if self.order else ""

    @property
    def customer_name(self) -> str:
        return self.order.customer.name if self.order else self.task.contact_name


@dataclass
class Queue:
    tab: str
    rows: list[Row]
    due: int  # open, due today (not yet overdue)
    overdue: int  # open, past the due time
    upcoming: int  # open, due after today
    declined: int  # never called: the customer said no at greeting
    done: int  # reached or unreachable
    declined_rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Counts:
    due: int
    overdue: int


def _end_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    today: date = now.astimezone(tz).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz)


async def counts(session: AsyncSession, now: datetime, tz: ZoneInfo) -> Counts:
    """The app bar's "3 due · 1 overdue": two counts, no rows loaded."""
    open_ = FollowUpTask.status == FollowUpStatus.OPEN.value
    overdue = await session.scalar(
        select(func.count(FollowUpTask.id)).where(open_, FollowUpTask.due_at < now)
    )
    due = await session.scalar(
        select(func.count(FollowUpTask.id)).where(
            open_, FollowUpTask.due_at >= now, FollowUpTask.due_at < _end_of_day(now, tz)
        )
    )
    return Counts(due=due or 0, overdue=overdue or 0)


def sort_key(row: Row, now: datetime, tz: ZoneInfo) -> tuple[date, int, int, datetime]:
    return (
        row.task.due_at.astimezone(tz).date(),
        0 if row.rework else 1,
        window_rank(row.task.preferred_when, window_at(now, tz)),
        row.task.due_at,
    )


async def _rows(
    session: AsyncSession, tasks: list[FollowUpTask], now: datetime, tz: ZoneInfo
) -> list[Row]:
    ids = [t.id for t in tasks]
    tried = dict(
        (
            await session.execute(
                select(FollowUpAttempt.task_id, func.count(FollowUpAttempt.id))
                .where(FollowUpAttempt.task_id.in_(ids))
                .group_by(FollowUpAttempt.task_id)
            )
        ).all()
    )
    order_ids = {t.work_order_id for t in tasks if t.work_order_id}
    orders = {
        o.id: o
        for o in (await session.scalars(select(WorkOrder).where(WorkOrder.id.in_(order_ids))))
        .unique()
        .all()
    }
    complaint_ids = {t.complaint_id for t in tasks if t.complaint_id}
    numbers = dict(
        (
            await session.execute(
                select(Complaint.id, Complaint.number).where(Complaint.id.in_(complaint_ids))
            )
        ).all()
    )
    end = _end_of_day(now, tz)
    return [
        Row(
            task=t,
            order=orders.get(t.work_order_id) if t.work_order_id else None,
            attempts=tried.get(t.id, 0),
            overdue=t.status == FollowUpStatus.OPEN.value and t.due_at < now,
            due_today=t.status == FollowUpStatus.OPEN.value and now <= t.due_at < end,
            complaint_number=numbers.get(t.complaint_id, "") if t.complaint_id else "",
        )
        for t in tasks
    ]


async def load(session: AsyncSession, now: datetime, tz: ZoneInfo, tab: str = "today") -> Queue:
    """One tab of the queue with every tab's count. "today" holds what is overdue and
    what falls due today: the calls to make now."""
    tab = tab if tab in TABS else "today"
    open_tasks = list(
        (
            await session.scalars(
                select(FollowUpTask).where(FollowUpTask.status == FollowUpStatus.OPEN.value)
            )
        ).all()
    )
    declined_tasks = list(
        (
            await session.scalars(
                select(FollowUpTask)
                .where(FollowUpTask.status == FollowUpStatus.DECLINED.value)
                .order_by(FollowUpTask.due_at.desc())
            )
        ).all()
    )
    done_count = await session.scalar(
        select(func.count(FollowUpTask.id)).where(
            FollowUpTask.status.in_(
                (FollowUpStatus.REACHED.value, FollowUpStatus.UNREACHABLE.value)
            )
        )
    )
    rows = await _rows(session, open_tasks, now, tz)
    rows.sort(key=lambda r: sort_key(r, now, tz))
    end = _end_of_day(now, tz)
    overdue = [r for r in rows if r.overdue]
    today = [r for r in rows if r.due_today]
    upcoming = [r for r in rows if r.task.due_at >= end]
    if tab == "done":
        closed = list(
            (
                await session.scalars(
                    select(FollowUpTask)
                    .where(
                        FollowUpTask.status.in_(
                            (FollowUpStatus.REACHED.value, FollowUpStatus.UNREACHABLE.value)
                        )
                    )
                    .order_by(FollowUpTask.closed_at.desc(), FollowUpTask.id.desc())
                    .limit(DONE_LIMIT)
                )
            ).all()
        )
        shown = await _rows(session, closed, now, tz)
    else:
        shown = {
            "today": overdue + today,
            "overdue": overdue,
            "upcoming": upcoming,
            "declined": [],
        }[tab]
    return Queue(
        tab=tab,
        rows=shown,
        due=len(today),
        overdue=len(overdue),
        upcoming=len(upcoming),
        declined=len(declined_tasks),
        done=done_count or 0,
        declined_rows=await _rows(session, declined_tasks, now, tz) if tab == "declined" else [],
    )
