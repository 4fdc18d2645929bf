"""The foreman's board (车间看板): every signed order by stage, the dispatch
queue in priority order, and the promised times at risk.

Priority (派工顺序): rework first, then customers waiting on site, then the
earliest promised time. An order is at risk when its remaining flat-rate
hours plus the handover buffer no longer fit before its promised time: the
advisor calls the customer before it passes and records the new time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import (
    Inspection,
    Job,
    JobTask,
    PromiseChange,
    Role,
    StaffUser,
    Supplement,
    SupplementStatus,
    TaskStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import audit, board_events, dealership
from app.services.audit import Actor
from app.services.estimate import pricing, terms
from app.services.records import get_or_404
from app.services.supplements import findings
from app.services.supplements.findings import Count as FindingCount
from app.services.workshop import jobs as workshop
from app.services.workshop.tasks import WORKSHOP_STATUSES

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
PROMISE_ROLES = (Role.ADVISOR.value, Role.SERVICE_MANAGER.value)
WAITING_ROLES = (*PROMISE_ROLES, Role.FOREMAN.value)
DEFAULT_HANDOVER_MINUTES = 30


@dataclass
class TaskRow:
    task: JobTask
    job: Job
    technician: StaffUser | None
    hours: Decimal  # flat-rate hours sold

    @property
    def waiting(self) -> bool:
        return self.task.status == TaskStatus.WAITING.value


@dataclass
class Card:
    order: WorkOrder
    tasks: list[TaskRow] = field(default_factory=list)
    promised_at: datetime | None = None  # the latest time agreed with the customer
    remaining_hours: Decimal = Decimal("0")
    at_risk: bool = False  # will miss the promised time at the current pace
    overdue: bool = False  # the promised time has passed
    findings: FindingCount = field(default_factory=FindingCount)  # not yet answered
    last_inspection: Inspection | None = None

    @property
    def priority(self) -> tuple[bool, bool, datetime, int]:
        rework = any(row.task.rework for row in self.tasks)
        return (not rework, not self.order.customer_waiting,
                self.promised_at or FAR_FUTURE, self.order.id)  # fmt: skip

    @property
    def stage(self) -> str:
        status = self.order.status
        if status == WorkOrderStatus.SIGNED or (
            status == WorkOrderStatus.IN_PROGRESS and all(r.waiting for r in self.tasks)
        ):
            return "waiting"
        return status.value


STAGES = ("waiting", "in_progress", "qc", "ready", "delivered")


@dataclass
class Board:
    now: datetime
    cards: list[Card]
    queue: list[tuple[Card, TaskRow]]  # jobs to dispatch, highest priority first
    technicians: list[StaffUser]
    first_time_fix: FirstTimeFix

    def column(self, stage: str) -> list[Card]:
        return [c for c in self.cards if c.stage == stage]

    @property
    def at_risk(self) -> list[Card]:
        return [c for c in self.cards if c.at_risk or c.overdue]


@dataclass(frozen=True)
class FirstTimeFix:
    """一次修复率: orders whose first final inspection passed, of those inspected."""

    inspected: int
    passed_first_time: int

    @property
    def rate(self) -> float | None:
        return self.passed_first_time / self.inspected if self.inspected else None


async def first_time_fix(session: AsyncSession, since: datetime, until: datetime) -> FirstTimeFix:
    # Counted by the database: a month of a busy workshop is thousands of inspections.
    inspected, passed = (
        await session.execute(
            select(
                func.count(Inspection.id),
                func.count(Inspection.id).filter(Inspection.passed.is_(True)),
            ).where(
                Inspection.round == 1,
                Inspection.created_at >= since,
                Inspection.created_at < until,
            )
        )
    ).one()
    return FirstTimeFix(inspected or 0, passed or 0)


async def promised_at(session: AsyncSession, order: WorkOrder) -> datetime | None:
    """The time last agreed with the customer: the signed one, unless a recorded
    call or approved added work agreed another since (the latest agreement wins)."""
    agreed: list[tuple[datetime, datetime]] = [
        (change.created_at, change.new_at)
        for change in (
            await session.scalars(
                select(PromiseChange).where(PromiseChange.work_order_id == order.id)
            )
        ).all()
    ]
    agreed += [
        (decided, promised)
        for decided, promised in (
            await session.execute(
                select(Supplement.decided_at, Supplement.promised_at).where(
                    Supplement.work_order_id == order.id,
                    Supplement.status == SupplementStatus.APPROVED.value,
                    Supplement.promised_at.is_not(None),
                )
            )
        ).all()
        if decided is not None and promised is not None
    ]
    if not agreed:
        return order.promised_at
    return max(agreed, key=lambda pair: pair[0])[1]


def _risk(card: Card, now: datetime, handover_minutes: int) -> None:
    if card.promised_at is None or card.order.status not in WORKSHOP_STATUSES:
        return
    if card.order.status == WorkOrderStatus.READY:
        card.overdue = False
        return
    card.overdue = now >= card.promised_at
    needed = timedelta(hours=float(card.remaining_hours), minutes=handover_minutes)
    card.at_risk = not card.overdue and now + needed > card.promised_at


async def load(session: AsyncSession, tz: ZoneInfo, now: datetime | None = None) -> Board:
    now = now or utcnow()
    shop = await dealership.current(session)  # None on a fresh install: the default buffer
    handover = shop.handover_minutes if shop else DEFAULT_HANDOVER_MINUTES
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time.min, tzinfo=tz)
    orders = (
        await session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.status.in_(WORKSHOP_STATUSES)
                | (
                    (WorkOrder.status == WorkOrderStatus.DELIVERED)
                    & (WorkOrder.delivered_at >= day_start)
                )
            )
            .order_by(WorkOrder.id)
        )
    ).all()
    ids = [o.id for o in orders]
    rows = await session.execute(
        select(JobTask, Job)
        .join(Job, Job.id == JobTask.job_id)
        .where(JobTask.work_order_id.in_(ids))
        .order_by(Job.id)
    )
    staff = {u.id: u for u in (await session.scalars(select(StaffUser))).all()}
    cards = {o.id: Card(o) for o in orders}
    for task, job in rows:
        row = TaskRow(task, job, staff.get(task.technician_id or 0), pricing.job_hours(job))
        card = cards[task.work_order_id]
        card.tasks.append(row)
        if task.status != TaskStatus.FINISHED.value:
            card.remaining_hours += row.hours
    for order_id, count in (await findings.counts(session, ids)).items():
        cards[order_id].findings = count
    for inspection in (
        await session.scalars(
            select(Inspection).where(Inspection.work_order_id.in_(ids)).order_by(Inspection.id)
        )
    ).all():
        cards[inspection.work_order_id].last_inspection = inspection
    for card in cards.values():
        card.promised_at = await promised_at(session, card.order)
        _risk(card, now, handover)
    ordered = sorted(cards.values(), key=lambda c: c.priority)
    queue = [(c, r) for c in ordered for r in c.tasks if r.waiting]
    return Board(
        now=now,
        cards=ordered,
        queue=queue,
        technicians=await workshop.technicians(session),
        first_time_fix=await first_time_fix(session, now - timedelta(days=30), now),
    )


async def set_customer_waiting(
    session: AsyncSession, order_id: int, waiting: bool, actor: Actor
) -> WorkOrder:
    if not actor.has_role(*WAITING_ROLES):
        raise Forbidden(_("The advisor or the foreman notes where the customer waits."))
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    if order.status not in WORKSHOP_STATUSES:
        raise Conflict(_("This work order is not in the workshop any more."))
    order.customer_waiting = waiting
    audit.record(session, actor, "work_order.customer_waiting", "work_order", order.id,
                 waiting=waiting)  # fmt: skip
    board_events.changed(session)
    return order


async def record_new_time(
    session: AsyncSession,
    order_id: int,
    raw: str | None,
    reason: str | None,
    tz: ZoneInfo,
    actor: Actor,
    now: datetime,
) -> PromiseChange:
    """The advisor called the customer before the promised time passed; they agreed a new one."""
    if not actor.has_role(*PROMISE_ROLES):
        raise Forbidden(_("The service advisor agrees a new time with the customer."))
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    if order.status not in WORKSHOP_STATUSES:
        raise Conflict(_("This work order is not in the workshop any more."))
    new_at = terms.parse_local_time(raw, tz)
    if new_at <= now:
        raise InvalidInput(_("The new time must be in the future."), field="promised_at")
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(_("Note what the customer was told."), field="reason")
    change = PromiseChange(
        work_order_id=order.id,
        old_at=await promised_at(session, order),
        new_at=new_at,
        reason=text[:1000],
        recorded_by_id=actor.user_id,
    )
    session.add(change)
    audit.record(session, actor, "work_order.promise_changed", "work_order", order.id,
                 old=change.old_at.isoformat() if change.old_at else None,
                 new=new_at.isoformat())  # fmt: skip
    board_events.changed(session)
    return change
