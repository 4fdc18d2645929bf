"""The rough estimate of a booking (维修费用预估) from the catalogue at today's prices: a menu
package at its menu price and labour, catalogue lines at their rates, a concern or declined
work at nothing until it is diagnosed. It also checks that everything named exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import (
    AppointmentJobSource,
    LabourOperation,
    LineKind,
    MenuPackage,
    Part,
    Recommendation,
)
from app.services.catalogue.packages import package_price

CENT = Decimal("0.01")
MAX_JOBS = 20
MAX_LINES = 40
MAX_TITLE = 200
MAX_WORDS = 2000
MAX_QUANTITY = Decimal("999")
SOURCES = tuple(s.value for s in AppointmentJobSource)
KINDS = (LineKind.LABOUR.value, LineKind.PART.value)


@dataclass
class JobInput:
    source: str  # AppointmentJobSource value
    title: str
    menu_package_id: int | None = None
    recommendation_id: int | None = None
    customer_words: str = ""
    lines: list[tuple[str, int, Decimal]] = field(default_factory=list)  # (kind, item id, qty)


@dataclass(frozen=True)
class RoughJob:
    job: JobInput
    hours: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Rough:
    jobs: list[RoughJob]
    hours: Decimal
    amount: Decimal


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="jobs")


def check_jobs(jobs: list[JobInput]) -> None:
    """What can be told without the database: sources, titles, quantities."""
    if len(jobs) > MAX_JOBS:
        raise _refuse(_("Book at most %(n)s jobs on one visit.", n=MAX_JOBS))
    for job in jobs:
        if job.source not in SOURCES:
            raise _refuse(_("Choose what kind of work each job is."))
        if not job.title.strip() and job.source != AppointmentJobSource.MENU.value:
            raise _refuse(_("Give each job a title."))
        if len(job.title.strip()) > MAX_TITLE:
            raise _refuse(_("A job's title is at most %(n)s characters.", n=MAX_TITLE))
        if len(job.customer_words) > MAX_WORDS:
            raise _refuse(_("The customer's words are at most %(n)s characters.", n=MAX_WORDS))
        if job.source == AppointmentJobSource.MENU.value and job.menu_package_id is None:
            raise _refuse(_("Choose the menu package."))
        if job.source == AppointmentJobSource.DECLINED.value and job.recommendation_id is None:
            raise _refuse(_("Choose the declined work to offer again."))
        if len(job.lines) > MAX_LINES:
            raise _refuse(_("At most %(n)s catalogue lines on a job.", n=MAX_LINES))
        for kind, _item, quantity in job.lines:
            if kind not in KINDS:
                raise _refuse(_("A catalogue line is labour or a part."))
            if not Decimal("0") < quantity <= MAX_QUANTITY:
                raise _refuse(_("A quantity is more than 0 and at most %(n)s.", n=MAX_QUANTITY))


async def rough(session: AsyncSession, jobs: list[JobInput]) -> Rough:
    """Hours and amount per job and in all; InvalidInput (field "jobs") naming what the
    catalogue does not have."""
    check_jobs(jobs)
    package_ids = {j.menu_package_id for j in jobs if j.menu_package_id is not None}
    labour_ids = {i for j in jobs for k, i, _q in j.lines if k == LineKind.LABOUR.value}
    part_ids = {i for j in jobs for k, i, _q in j.lines if k == LineKind.PART.value}
    packages = {
        p.id: p
        for p in (
            await session.scalars(select(MenuPackage).where(MenuPackage.id.in_(package_ids)))
        ).all()
    }
    operations = {
        o.id: o
        for o in (
            await session.scalars(select(LabourOperation).where(LabourOperation.id.in_(labour_ids)))
        ).all()
    }
    parts = {
        p.id: p for p in (await session.scalars(select(Part).where(Part.id.in_(part_ids)))).all()
    }
    if package_ids - packages.keys():
        raise _refuse(_("That menu package no longer exists."))
    if labour_ids - operations.keys() or part_ids - parts.keys():
        raise _refuse(_("An item on the booking is no longer in the catalogue."))
    out = []
    for job in jobs:
        hours = Decimal("0")
        amount = Decimal("0")
        if job.menu_package_id is not None:
            package = packages[job.menu_package_id]
            amount += package_price(package)
            hours += sum(
                (
                    i.labour_operation.flat_rate_hours * i.quantity
                    for i in package.items
                    if i.labour_operation is not None
                ),
                Decimal("0"),
            )
        for kind, item_id, quantity in job.lines:
            if kind == LineKind.LABOUR.value:
                op = operations[item_id]
                hours += op.flat_rate_hours * quantity
                amount += op.flat_rate_hours * op.labour_rate * quantity
            else:
                amount += parts[item_id].price * quantity
        out.append(RoughJob(job, hours.quantize(CENT), amount.quantize(CENT)))
    return Rough(
        jobs=out,
        hours=sum((j.hours for j in out), Decimal("0")).quantize(CENT),
        amount=sum((j.amount for j in out), Decimal("0")).quantize(CENT),
    )


async def check_recommendations(
    session: AsyncSession, jobs: list[JobInput], vehicle_id: int
) -> None:
    """Declined work offered again must be this car's."""
    wanted = {j.recommendation_id for j in jobs if j.recommendation_id is not None}
    if not wanted:
        return
    found = set(
        (
            await session.scalars(
                select(Recommendation.id).where(
                    Recommendation.id.in_(wanted), Recommendation.vehicle_id == vehicle_id
                )
            )
        ).all()
    )
    if wanted - found:
        raise _refuse(_("That declined work is not on this car's record."))
