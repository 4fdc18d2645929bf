"""Editing the estimate (维修费用预估): opening it, its jobs, their lines at published prices.

A little over 300 lines because jobs and lines change together: the same loaders
and guards serve the estimate and a draft supplement's added work.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import _
from app.models import (
    Job,
    JobLine,
    JobSource,
    LabourOperation,
    LineKind,
    Part,
    Supplement,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import audit, work_orders
from app.services.audit import Actor
from app.services.estimate.guards import (
    check_in_first,
    check_in_of,
    completed,
    ensure_draft,
    ensure_estimating,
    touch,
)
from app.services.estimate.pricing import CENT
from app.services.records import get_or_404

MAX_PRICE = Decimal("1000000")
# Roles that may change a published price (with a reason).
PRICE_OVERRIDE_ROLES = ("service_manager",)


async def _job(session: AsyncSession, order: WorkOrder, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.work_order_id != order.id or job.supplement_id is not None:
        raise NotFound(_("That job is not on this estimate."))
    return job


async def _line(session: AsyncSession, order: WorkOrder, line_id: int) -> tuple[Job, JobLine]:
    line = await get_or_404(session, JobLine, line_id, _("That line is not on this estimate."))
    job = await _job(session, order, line.job_id)
    return job, line


async def start(session: AsyncSession, order: WorkOrder, actor: Actor) -> None:
    """Open the estimate from a completed check-in: one job per 5W2H concern (but those a
    booking already priced onto the order), and the consents pre-filled from what the
    customer said. Idempotent; runs when the check-in completes (a POST), never because a
    page was looked at."""
    if order.signed_at is not None:
        return
    check_in = await check_in_of(session, order)
    if not completed(check_in):
        raise Conflict(check_in_first())
    jobs = (
        await session.execute(
            select(Job.concern_id, Job.source).where(
                Job.work_order_id == order.id, Job.supplement_id.is_(None)
            )
        )
    ).all()
    # Any job means the estimate opened already, but a booking's pre-filled jobs
    # (appointments/prefill): they are on the order before it opens, with no concern or the
    # concern they price, and the concern jobs come after them.
    booked = order.appointment_id is not None
    if any(
        source == JobSource.CONCERN.value or (concern is None and not booked)
        for concern, source in jobs
    ):
        return
    covered = {concern for concern, _source in jobs}
    for concern in check_in.concerns:
        if concern.id in covered:
            continue
        session.add(
            Job(
                work_order_id=order.id,
                concern_id=concern.id,
                source=JobSource.CONCERN.value,
                title=concern.customer_words,
            )
        )
    if order.consent_road_test is None:
        order.consent_road_test = check_in.road_test_consent
    if order.consent_follow_up is None:
        order.consent_follow_up = check_in.follow_up_accepted
    if order.status == WorkOrderStatus.CHECK_IN:
        work_orders.change_status(session, order, WorkOrderStatus.ESTIMATE, actor)
    touch(order)
    audit.record(session, actor, "estimate.start", "work_order", order.id)


def _title(raw: str | None) -> str:
    title = " ".join((raw or "").split())
    if not title:
        raise InvalidInput(_("Describe the job."), field="title")
    if len(title) > 500:
        raise InvalidInput(_("Keep the description under 500 characters."), field="title")
    return title


async def add_job(
    session: AsyncSession,
    order: WorkOrder,
    title: str | None,
    version: int | None,
    actor: Actor,
    *,
    supplement: Supplement | None = None,
) -> Job:
    if supplement is None:
        ensure_estimating(order, version)
    else:
        ensure_draft(supplement)
    job = Job(
        work_order_id=order.id,
        supplement_id=supplement.id if supplement else None,
        source=(JobSource.FINDING if supplement else JobSource.MANUAL).value,
        title=_title(title),
        lines=[],  # loaded (empty): lines added next need no lazy load
    )
    session.add(job)
    touch(order)
    await session.flush()
    audit.record(session, actor, "estimate.add_job", "work_order", order.id, job=job.id)
    return job


def new_line(job: Job, item: LabourOperation | Part, quantity: Decimal, today: date) -> JobLine:
    if isinstance(item, LabourOperation):
        return JobLine(
            job_id=job.id,
            kind=LineKind.LABOUR.value,
            labour_operation_id=item.id,
            code=item.code,
            name_zh=item.name_zh,
            name_en=item.name_en,
            quantity=quantity,
            list_price=item.labour_rate,
            unit_price=item.labour_rate,
        )
    return JobLine(
        job_id=job.id,
        kind=LineKind.PART.value,
        part_id=item.id,
        code=item.number,
        name_zh=item.name_zh,
        name_en=item.name_en,
        quantity=quantity,
        list_price=item.price,
        unit_price=item.price,
        expected_on=part_expected_on(item, quantity, today),
    )


def part_expected_on(part: Part, quantity: Decimal, today: date) -> date | None:
    """None when the part is on the shelf; otherwise when an order would arrive."""
    if part.stock_on_hand >= quantity:
        return None
    return today + timedelta(days=max(part.lead_time_days, 1))


async def catalogue_item(session: AsyncSession, kind: str, item_id: int) -> LabourOperation | Part:
    model: type[LabourOperation] | type[Part]
    if kind == LineKind.LABOUR:
        model = LabourOperation
    elif kind == LineKind.PART:
        model = Part
    else:
        raise InvalidInput(_("Pick a labour operation or a part."), field="item")
    return await get_or_404(session, model, item_id, _("That catalogue item no longer exists."))


async def add_line(
    session: AsyncSession,
    order: WorkOrder,
    job_id: int,
    kind: str,
    item_id: int,
    quantity: str | None,
    version: int | None,
    actor: Actor,
    today: date,
    *,
    supplement: Supplement | None = None,
) -> JobLine:
    if supplement is None:
        ensure_estimating(order, version)
        job = await _job(session, order, job_id)
    else:
        ensure_draft(supplement)
        job = await supplement_job(session, supplement, job_id)
    item = await catalogue_item(session, kind, item_id)
    qty = (
        parsing.quantity(quantity)
        if quantity
        else (item.flat_rate_hours if isinstance(item, LabourOperation) else Decimal("1"))
    )
    line = new_line(job, item, qty, today)
    job.lines.append(line)
    touch(order)
    await session.flush()
    audit.record(
        session, actor, "estimate.add_line", "work_order", order.id, job=job.id, code=line.code
    )
    return line


async def supplement_job(session: AsyncSession, supplement: Supplement, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.supplement_id != supplement.id:
        raise NotFound(_("That job is not on this supplement."))
    return job


async def set_quantity(
    session: AsyncSession,
    order: WorkOrder,
    line_id: int,
    quantity: str | None,
    version: int | None,
    actor: Actor,
) -> JobLine:
    ensure_estimating(order, version)
    line = (await _line(session, order, line_id))[1]
    line.quantity = parsing.quantity(quantity)
    touch(order)
    audit.record(
        session, actor, "estimate.quantity", "work_order", order.id, line=line.id,
        quantity=str(line.quantity),
    )  # fmt: skip
    return line


async def set_price(
    session: AsyncSession,
    order: WorkOrder,
    line_id: int,
    price: str | None,
    reason: str | None,
    version: int | None,
    actor: Actor,
) -> JobLine:
    """Published prices are the rule; only a manager may change one, with a reason."""
    ensure_estimating(order, version)
    line = (await _line(session, order, line_id))[1]
    value = parsing.decimal(price, "price")
    if value > MAX_PRICE or value != value.quantize(CENT):
        raise InvalidInput(_("Enter a price with at most 2 decimals."), field="price")
    if value != line.list_price and not actor.has_role(*PRICE_OVERRIDE_ROLES):
        raise Forbidden(_("Only a service manager can change a published price."))
    why = " ".join((reason or "").split())
    if value != line.list_price and not why:
        raise InvalidInput(_("Give the reason for changing the published price."), field="reason")
    line.unit_price = value
    line.override_reason = why if value != line.list_price else ""
    touch(order)
    audit.record(
        session, actor, "estimate.price", "work_order", order.id, line=line.id,
        list_price=str(line.list_price), unit_price=str(value), reason=why,
    )  # fmt: skip
    return line


async def remove_line(
    session: AsyncSession, order: WorkOrder, line_id: int, version: int | None, actor: Actor
) -> None:
    ensure_estimating(order, version)
    job, line = await _line(session, order, line_id)
    job.lines.remove(line)
    await session.delete(line)
    touch(order)
    audit.record(session, actor, "estimate.remove_line", "work_order", order.id, code=line.code)


async def remove_job(
    session: AsyncSession, order: WorkOrder, job_id: int, version: int | None, actor: Actor
) -> None:
    ensure_estimating(order, version)
    job = await _job(session, order, job_id)
    if job.source == JobSource.CONCERN:
        raise InvalidInput(
            _("A job for the customer's concern cannot be removed; mark it declined instead.")
        )
    await session.delete(job)
    touch(order)
    audit.record(session, actor, "estimate.remove_job", "work_order", order.id, title=job.title)


async def set_job_flags(
    session: AsyncSession,
    order: WorkOrder,
    job_id: int,
    version: int | None,
    actor: Actor,
    *,
    warranty: bool | None = None,
    declined: bool | None = None,
) -> Job:
    ensure_estimating(order, version)
    job = await _job(session, order, job_id)
    if warranty is not None:
        job.warranty = warranty
    if declined is not None:
        job.declined_at = utcnow() if declined else None
    touch(order)
    audit.record(
        session, actor, "estimate.job_flags", "work_order", order.id, job=job.id,
        warranty=job.warranty, declined=job.declined_at is not None,
    )  # fmt: skip
    return job
