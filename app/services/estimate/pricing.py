"""The estimate's arithmetic: line and job amounts, hours, and the totals with discount and tax."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.i18n import _
from app.models import Dealership, Job, JobLine, LineKind, Supplement, SupplementStatus, WorkOrder
from app.services import dealership as dealerships

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(line: JobLine) -> Decimal:
    return money(line.quantity * line.unit_price)


def job_amount(job: Job) -> Decimal:
    return sum((line_amount(line) for line in job.lines), Decimal("0.00"))


def job_hours(job: Job) -> Decimal:
    return sum((ln.quantity for ln in job.lines if ln.kind == LineKind.LABOUR), Decimal("0"))


@dataclass(frozen=True)
class Totals:
    labour: Decimal  # charged to the customer
    parts: Decimal
    warranty: Decimal  # value of warranty jobs, not charged
    subtotal: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    hours: Decimal  # flat-rate hours of the jobs to do, for the workshop's load


def compute_totals(jobs: list[Job], discount: Decimal, tax_rate: Decimal) -> Totals:
    """Totals over the jobs to do (declined jobs are left out). Prices are
    before tax; the discount comes off the charged subtotal before tax."""
    labour = parts = warranty = Decimal("0.00")
    hours = Decimal("0")
    for job in jobs:
        if job.declined_at is not None:
            continue
        hours += job_hours(job)
        for line in job.lines:
            amount = line_amount(line)
            if job.warranty:
                warranty += amount
            elif line.kind == LineKind.LABOUR:
                labour += amount
            else:
                parts += amount
    subtotal = labour + parts
    discount = min(money(discount), subtotal)
    tax = money((subtotal - discount) * tax_rate)
    return Totals(
        labour=labour,
        parts=parts,
        warranty=warranty,
        subtotal=subtotal,
        discount=discount,
        tax_rate=tax_rate,
        tax=tax,
        total=subtotal - discount + tax,
        hours=hours,
    )


async def dealership(session: AsyncSession) -> Dealership:
    """The dealership's tax rate and discount limits price every estimate: it must exist."""
    found = await dealerships.current(session)
    if found is None:
        raise NotFound(_("The dealership is not set up."))
    return found


async def order_jobs(
    session: AsyncSession, order: WorkOrder, *, with_supplements: bool = False
) -> list[Job]:
    """The signed estimate's jobs; with_supplements adds the approved added work."""
    stmt = select(Job).where(Job.work_order_id == order.id).order_by(Job.id)
    jobs = list((await session.scalars(stmt)).all())
    if not with_supplements:
        return [j for j in jobs if j.supplement_id is None]
    approved = set(
        (
            await session.scalars(
                select(Supplement.id).where(
                    Supplement.work_order_id == order.id,
                    Supplement.status == SupplementStatus.APPROVED.value,
                )
            )
        ).all()
    )
    return [j for j in jobs if j.supplement_id is None or j.supplement_id in approved]


async def order_totals(
    session: AsyncSession, order: WorkOrder, *, with_supplements: bool = False
) -> Totals:
    jobs = await order_jobs(session, order, with_supplements=with_supplements)
    shop = await dealership(session)
    return compute_totals(jobs, order.discount_amount, shop.tax_rate)
