"""The booking's jobs as the work order's estimate (预先填好的维修委托书), priced at the
catalogue of the day they are priced: the day before for tomorrow's list, on arrival for
the order itself, so the customer only confirms and signs.

Each booked job becomes an estimate job: a menu package with the lines the estimate's "add
menu" makes, catalogue lines at today's prices, a declined job offered again with the lines
it had. The customer's own words (a concern) also become a concern on the check-in, read
back in the symptoms step; a concern without priced lines becomes its job when the estimate
opens (estimate/editing.start), as a walk-in's concern does. Maintenance and catalogue work
are not symptoms: they wait on the estimate, not in the 5W2H questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import get_locale
from app.models import (
    Appointment,
    AppointmentJob,
    AppointmentJobSource,
    CheckIn,
    Concern,
    Job,
    JobSource,
    LabourOperation,
    LineKind,
    MenuPackage,
    Part,
    Recommendation,
    WorkOrder,
)
from app.services.check_in.answers import W2H_FIELDS, field_of
from app.services.estimate.editing import new_line
from app.services.estimate.menus import fill_from_package
from app.services.estimate.pricing import job_amount

_SOURCES = {
    AppointmentJobSource.MENU.value: JobSource.MENU.value,
    AppointmentJobSource.CONCERN.value: JobSource.CONCERN.value,
}


@dataclass
class PricedJob:
    """A booked job and the estimate job it becomes (not in the session: a preview)."""

    booked: AppointmentJob
    job: Job
    words: str  # the concern's words on the check-in
    details: dict[str, str]  # the 5W2H answers picked when booking

    @property
    def amount(self) -> Decimal:
        return job_amount(self.job)

    @property
    def hours(self) -> Decimal:
        return sum(
            (ln.quantity for ln in self.job.lines if ln.kind == LineKind.LABOUR), Decimal("0")
        )

    @property
    def bare_concern(self) -> bool:
        """The customer's words and nothing priced yet: the estimate makes the job."""
        return self.booked.source == AppointmentJobSource.CONCERN.value and not self.job.lines


def concern_text(raw: str) -> tuple[str, dict[str, str]]:
    """The customer's words and the 5W2H answers from a booked job's `customer_words`:
    JSON {"words": ..., "chips": [tap choices]} (or answers by field) when booked through
    the 5W2H chips, else plain text. Each chip goes to the question it answers."""
    text = (raw or "").strip()
    if not text.startswith("{"):
        return text, {}
    try:
        data = json.loads(text)
    except ValueError:
        return text, {}
    if not isinstance(data, dict):
        return text, {}

    words = str(data.get("words") or "").strip()
    answers: dict[str, list[str]] = {f: [str(data[f]).strip()] for f in W2H_FIELDS if data.get(f)}
    chips = data.get("chips")
    for chip in chips if isinstance(chips, list) else []:
        name = field_of(str(chip))
        if name is not None:
            answers.setdefault(name, []).append(str(chip))
    sep = "、" if get_locale().startswith("zh") else ", "
    return words, {f: sep.join(v)[:500] for f, v in answers.items()}


async def _declined_lines(
    session: AsyncSession, recommendation_id: int | None
) -> list[tuple[str, int, Decimal, bool]]:
    """The catalogue items of the declined job a recommendation came from, if any."""
    if recommendation_id is None:
        return []
    rec = await session.get(Recommendation, recommendation_id)
    if rec is None or rec.work_order_id is None:
        return []
    declined = (
        await session.scalars(
            select(Job).where(
                Job.work_order_id == rec.work_order_id,
                Job.title == rec.text,
                Job.declined_at.is_not(None),
            )
        )
    ).first()
    if declined is None:
        return []
    return [
        (ln.kind, ln.labour_operation_id or ln.part_id or 0, ln.quantity, True)
        for ln in declined.lines
    ]


async def booked_jobs(session: AsyncSession, appointment_id: int) -> list[AppointmentJob]:
    """The booking's jobs in order, with their lines, read now (never a lazy load)."""
    return list(
        (
            await session.scalars(
                select(AppointmentJob)
                .where(AppointmentJob.appointment_id == appointment_id)
                .order_by(AppointmentJob.position, AppointmentJob.id)
            )
        ).all()
    )


async def _item(session: AsyncSession, kind: str, item_id: int) -> LabourOperation | Part | None:
    if kind == LineKind.LABOUR:
        return await session.get(LabourOperation, item_id)
    return await session.get(Part, item_id)


async def price(
    session: AsyncSession, appointment: Appointment, today: date, locale: str
) -> list[PricedJob]:
    """Every booked job priced at today's catalogue, in booking order. A catalogue item
    or package deleted since the booking is left out (the advisor sees the job without it)."""
    zh = locale.startswith("zh")
    priced = []
    for booked in await booked_jobs(session, appointment.id):
        words, details = concern_text(booked.customer_words)
        job = Job(
            source=_SOURCES.get(booked.source, JobSource.MANUAL.value),
            menu_package_id=booked.menu_package_id,
            title=booked.title,
            lines=[],
        )
        package = (
            await session.get(MenuPackage, booked.menu_package_id)
            if booked.menu_package_id
            else None
        )
        if package is not None:
            job.title = package.name_zh if zh else package.name_en
            fill_from_package(job, package, today)
        else:
            # A booked labour line counts flat-rate times (as a package item does); a
            # declined job's lines were already in hours.
            items = [(ln.kind, ln.labour_operation_id or ln.part_id or 0, ln.quantity, False)
                     for ln in booked.lines]  # fmt: skip
            if not items and booked.source == AppointmentJobSource.DECLINED.value:
                items = await _declined_lines(session, booked.recommendation_id)
            for kind, item_id, quantity, in_hours in items:
                item = await _item(session, kind, item_id)
                if item is None:
                    continue
                hours = quantity
                if isinstance(item, LabourOperation) and not in_hours:
                    hours = item.flat_rate_hours * quantity
                job.lines.append(new_line(job, item, hours, today))
        job.title = job.title or words
        priced.append(PricedJob(booked, job, words or job.title, details))
    return priced


async def apply(
    session: AsyncSession,
    appointment: Appointment,
    check_in: CheckIn,
    order: WorkOrder,
    today: date,
    locale: str,
) -> None:
    """Put the booking on the new check-in and its order: the priced estimate jobs, and a
    concern for the customer's words (linked to its job when that was priced). A booking
    without jobs (made before bookings had them) brings its requested work as one concern."""
    if not await booked_jobs(session, appointment.id):
        if appointment.requested_work.strip():
            check_in.concerns.append(Concern(customer_words=appointment.requested_work.strip()))
        return
    priced = await price(session, appointment, today, locale)
    for entry in priced:
        job = entry.job
        job.work_order_id = order.id
        if entry.booked.source == AppointmentJobSource.CONCERN.value:
            # The customer's words: read back in the symptoms step like a walk-in's.
            concern = Concern(customer_words=entry.words[:2000], **entry.details)
            check_in.concerns.append(concern)
            await session.flush()
            if entry.bare_concern:
                continue  # the estimate makes its job from the concern
            job.concern_id = concern.id
            job.source = JobSource.MANUAL.value  # priced: not a bare concern any more
        session.add(job)
    await session.flush()
