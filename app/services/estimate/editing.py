"""The estimate (维修费用预估): jobs and lines at published prices, discount, tax, totals.

Every change checks the order's version (two tablets never overwrite each
other) and that the order is still being estimated: once the customer has
signed, added work goes on a supplement the customer approves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import _
from app.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    CheckIn,
    Dealership,
    Job,
    JobLine,
    JobSource,
    LabourOperation,
    LineKind,
    MenuPackage,
    Part,
    Supplement,
    SupplementStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import audit, work_orders
from app.services.audit import Actor

CENT = Decimal("0.01")
MAX_QUANTITY = Decimal("999")
MAX_PRICE = Decimal("1000000")
# Roles that may change a published price (with a reason).
PRICE_OVERRIDE_ROLES = ("service_manager",)


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
    found = await session.scalar(select(Dealership).order_by(Dealership.id).limit(1))
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


# -- guards -----------------------------------------------------------------


def check_in_first() -> str:
    """The refusal, translated when it is raised."""
    return _("Finish the check-in with the customer before the estimate.")


async def check_in_of(session: AsyncSession, order: WorkOrder) -> CheckIn | None:
    return await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))


async def check_in_complete(session: AsyncSession, order: WorkOrder) -> bool:
    check_in = await check_in_of(session, order)
    return check_in is not None and check_in.completed_at is not None


def ensure_estimating(order: WorkOrder, version: int | None) -> None:
    """The order can still be estimated, and the tablet saw its latest version.

    Only a completed check-in moves an order to ESTIMATE: no price is written
    before the car has been walked round with the customer."""
    if order.status == WorkOrderStatus.CHECK_IN:
        raise Conflict(check_in_first())
    if order.signed_at is not None or order.status != WorkOrderStatus.ESTIMATE:
        raise Conflict(
            _(
                "This work order has been signed by the customer and cannot change. "
                "Added work goes on a supplement the customer approves."
            )
        )
    if version is not None and version != order.version:
        raise Conflict(_("Someone else changed this estimate. Reload to see the latest."))


def ensure_draft(supplement: Supplement) -> None:
    """Added work can change until it is sent to the customer (or withdrawn)."""
    if supplement.status == SupplementStatus.WITHDRAWN.value:
        raise Conflict(_("This finding was withdrawn by the advisor; it cannot be sent."))
    if supplement.status != SupplementStatus.DRAFT.value:
        raise Conflict(_("This supplement was already sent to the customer and cannot change."))


def _touch(order: WorkOrder) -> None:
    # Any change to the estimate bumps the order's version (version_id_col).
    order.updated_at = utcnow()


def parse_decimal(raw: str | None, field: str, *, minimum: Decimal = Decimal("0")) -> Decimal:
    try:
        value = Decimal(str(raw or "").strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(_("Enter a number."), field=field) from None
    if not value.is_finite():
        raise InvalidInput(_("Enter a number."), field=field)
    if value < minimum:
        raise InvalidInput(_("This cannot be negative."), field=field)
    return value


def _quantity(raw: str | None) -> Decimal:
    value = parse_decimal(raw, "quantity")
    if value <= 0:
        raise InvalidInput(_("The quantity must be more than zero."), field="quantity")
    if value > MAX_QUANTITY or value != value.quantize(CENT):
        raise InvalidInput(
            _("Enter a quantity up to 999 with at most 2 decimals."), field="quantity"
        )
    return value


async def _job(session: AsyncSession, order: WorkOrder, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.work_order_id != order.id or job.supplement_id is not None:
        raise NotFound(_("That job is not on this estimate."))
    return job


async def _line(session: AsyncSession, order: WorkOrder, line_id: int) -> tuple[Job, JobLine]:
    line = await session.get(JobLine, line_id)
    if line is None:
        raise NotFound(_("That line is not on this estimate."))
    job = await _job(session, order, line.job_id)
    return job, line


# -- building the estimate ---------------------------------------------------


async def start(session: AsyncSession, order: WorkOrder, actor: Actor) -> None:
    """Open the estimate from a completed check-in: one job per 5W2H concern, and
    the consents pre-filled from what the customer said. Idempotent; runs when
    the check-in completes (a POST), never because a page was looked at."""
    if order.signed_at is not None:
        return
    check_in = await check_in_of(session, order)
    if check_in is None or check_in.completed_at is None:
        raise Conflict(check_in_first())
    existing = await session.scalar(select(Job.id).where(Job.work_order_id == order.id).limit(1))
    if existing is not None:
        return
    for concern in check_in.concerns:
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
    _touch(order)
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
    _touch(order)
    await session.flush()
    audit.record(session, actor, "estimate.add_job", "work_order", order.id, job=job.id)
    return job


def _new_line(job: Job, item: LabourOperation | Part, quantity: Decimal, today: date) -> JobLine:
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
    item: LabourOperation | Part | None
    if kind == LineKind.LABOUR:
        item = await session.get(LabourOperation, item_id)
    elif kind == LineKind.PART:
        item = await session.get(Part, item_id)
    else:
        raise InvalidInput(_("Pick a labour operation or a part."), field="item")
    if item is None:
        raise NotFound(_("That catalogue item no longer exists."))
    return item


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
        _quantity(quantity)
        if quantity
        else (item.flat_rate_hours if isinstance(item, LabourOperation) else Decimal("1"))
    )
    line = _new_line(job, item, qty, today)
    job.lines.append(line)
    _touch(order)
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
    line.quantity = _quantity(quantity)
    _touch(order)
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
    value = parse_decimal(price, "price")
    if value > MAX_PRICE or value != value.quantize(CENT):
        raise InvalidInput(_("Enter a price with at most 2 decimals."), field="price")
    if value != line.list_price and not actor.has_role(*PRICE_OVERRIDE_ROLES):
        raise Forbidden(_("Only a service manager can change a published price."))
    why = " ".join((reason or "").split())
    if value != line.list_price and not why:
        raise InvalidInput(_("Give the reason for changing the published price."), field="reason")
    line.unit_price = value
    line.override_reason = why if value != line.list_price else ""
    _touch(order)
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
    _touch(order)
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
    _touch(order)
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
    _touch(order)
    audit.record(
        session, actor, "estimate.job_flags", "work_order", order.id, job=job.id,
        warranty=job.warranty, declined=job.declined_at is not None,
    )  # fmt: skip
    return job


async def discount_limit(session: AsyncSession, order: WorkOrder, actor: Actor) -> Decimal:
    """The largest discount this user may give on this order, in currency."""
    shop = await dealership(session)
    percent = (
        shop.manager_discount_percent
        if actor.has_role("service_manager")
        else shop.advisor_discount_percent
        if actor.has_role("advisor")
        else Decimal("0")
    )
    totals = compute_totals(await order_jobs(session, order), Decimal("0"), shop.tax_rate)
    return money(totals.subtotal * percent / 100)


async def set_discount(
    session: AsyncSession,
    order: WorkOrder,
    amount: str | None,
    reason: str | None,
    version: int | None,
    actor: Actor,
) -> Decimal:
    ensure_estimating(order, version)
    value = parse_decimal(amount or "0", "discount")
    if value != value.quantize(CENT):
        raise InvalidInput(_("Enter an amount with at most 2 decimals."), field="discount")
    why = " ".join((reason or "").split())
    if value > 0 and not why:
        raise InvalidInput(_("Give the reason for the discount."), field="discount_reason")
    limit = await discount_limit(session, order, actor)
    if value > limit:
        raise Forbidden(
            _("Your role allows a discount of at most {limit} on this order.").format(limit=limit)
        )
    order.discount_amount = value
    order.discount_reason = why if value > 0 else ""
    order.discount_by_id = actor.user_id if value > 0 else None
    _touch(order)
    audit.record(
        session, actor, "estimate.discount", "work_order", order.id, amount=str(value), reason=why
    )
    return value


# -- menu packages -------------------------------------------------------------

# How close to (or past) a package's interval the odometer must be to suggest it.
MENU_WINDOW_KM = 1500


def due_packages(packages: list[MenuPackage], odometer_km: int | None) -> list[MenuPackage]:
    """Menu packages whose mileage interval the car has reached, largest first:
    a 40 000 km service includes what the 10 000 km one does."""
    if not odometer_km:
        return []
    due = []
    for package in packages:
        interval = package.interval_km
        if interval <= 0:
            continue
        past = odometer_km % interval
        if odometer_km >= interval - MENU_WINDOW_KM and (
            past <= MENU_WINDOW_KM or interval - past <= MENU_WINDOW_KM
        ):
            due.append(package)
    return sorted(due, key=lambda p: p.interval_km, reverse=True)


async def menu_suggestions(session: AsyncSession, order: WorkOrder) -> list[MenuPackage]:
    odometer = await session.scalar(
        select(CheckIn.odometer_km).where(CheckIn.work_order_id == order.id)
    )
    packages = list((await session.scalars(select(MenuPackage))).all())
    taken = set(
        (
            await session.scalars(
                select(Job.menu_package_id).where(
                    Job.work_order_id == order.id, Job.menu_package_id.is_not(None)
                )
            )
        ).all()
    )
    return [p for p in due_packages(packages, odometer) if p.id not in taken]


async def add_menu_package(
    session: AsyncSession,
    order: WorkOrder,
    package_id: int,
    locale: str,
    version: int | None,
    actor: Actor,
    today: date,
) -> Job:
    ensure_estimating(order, version)
    package = await session.get(MenuPackage, package_id)
    if package is None:
        raise NotFound(_("That menu package no longer exists."))
    job = Job(
        work_order_id=order.id,
        menu_package_id=package.id,
        source=JobSource.MENU.value,
        title=package.name_zh if locale.startswith("zh") else package.name_en,
        lines=[],
    )
    session.add(job)
    await session.flush()
    for item in package.items:
        catalogue = item.labour_operation or item.part
        if catalogue is None:
            continue
        quantity = (
            catalogue.flat_rate_hours * item.quantity
            if isinstance(catalogue, LabourOperation)
            else item.quantity
        )
        job.lines.append(_new_line(job, catalogue, quantity, today))
    _touch(order)
    audit.record(session, actor, "estimate.add_menu", "work_order", order.id, package=package.code)
    return job


# -- ready to sign -------------------------------------------------------------


async def readiness(session: AsyncSession, order: WorkOrder) -> list[str]:
    """Everything that stops this order from going to the customer, re-read from
    the database: the check-in complete, then the estimate itself."""
    if not await check_in_complete(session, order) or order.status != WorkOrderStatus.ESTIMATE:
        return [check_in_first()]
    return problems_before_signing(order, await order_jobs(session, order))


async def hand_over(session: AsyncSession, order: WorkOrder, actor: Actor, now: datetime) -> None:
    """The advisor hands the tablet to the customer to review and sign."""
    ensure_estimating(order, None)
    problems = await readiness(session, order)
    if problems:
        raise InvalidInput(" ".join(problems))
    order.customer_mode_since = now
    audit.record(session, actor, "customer_mode.enter", "work_order", order.id)


def problems_before_signing(order: WorkOrder, jobs: list[Job]) -> list[str]:
    """What stops the customer from signing, in words the advisor can act on."""
    problems = []
    if not any(j.declined_at is None for j in jobs):
        problems.append(_("The estimate has no job to do."))
    for job in jobs:
        if job.declined_at is None and not job.lines:
            problems.append(
                _("“{title}” has no labour or parts yet. Price it or mark it declined.").format(
                    title=job.title
                )
            )
    if order.promised_at is None:
        problems.append(_("Set the promised time."))
    return problems


# -- promised time and consents --------------------------------------------------


def parse_local_time(raw: str | None, tz: ZoneInfo) -> datetime:
    """A datetime-local input ("2026-11-22T17:30") in the dealership's zone, as UTC."""
    try:
        local = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter a date and time."), field="promised_at") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


async def set_promised_at(
    session: AsyncSession,
    order: WorkOrder,
    raw: str | None,
    tz: ZoneInfo,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> datetime:
    ensure_estimating(order, version)
    promised = parse_local_time(raw, tz)
    if promised <= now:
        raise InvalidInput(_("The promised time must be in the future."), field="promised_at")
    if promised > now + timedelta(days=60):
        raise InvalidInput(_("The promised time is too far ahead."), field="promised_at")
    order.promised_at = promised
    _touch(order)
    audit.record(
        session, actor, "estimate.promised_at", "work_order", order.id, at=promised.isoformat()
    )
    return promised


CONSENTS = ("consent_road_test", "consent_keep_old_parts", "consent_follow_up")


async def set_consent(
    session: AsyncSession,
    order: WorkOrder,
    name: str,
    value: bool,
    version: int | None,
    actor: Actor,
) -> None:
    ensure_estimating(order, version)
    if name not in CONSENTS:
        raise InvalidInput(_("Unknown question."), field=name)
    setattr(order, name, value)
    _touch(order)
    audit.record(session, actor, "estimate.consent", "work_order", order.id, **{name: value})


async def book_return_visit(
    session: AsyncSession, order: WorkOrder, tz: ZoneInfo, actor: Actor
) -> Appointment:
    """A part must be ordered: book the customer back for the day it arrives,
    an hour after the workshop opens, with the jobs that wait for it."""
    waiting = [
        job
        for job in await order_jobs(session, order)
        if job.declined_at is None and any(ln.expected_on for ln in job.lines)
    ]
    if not waiting:
        raise InvalidInput(_("No part on this estimate has to be ordered."))
    arrives = max(ln.expected_on for job in waiting for ln in job.lines if ln.expected_on)
    shop = await dealership(session)
    hours, minutes = (int(v) for v in shop.workshop_opens.split(":"))
    at = datetime.combine(arrives, datetime.min.time(), tzinfo=tz).replace(
        hour=hours, minute=minutes
    ) + timedelta(hours=1)
    note = _("Parts ordered for work order %(number)s", number=order.number)
    existing = await session.scalar(
        select(Appointment).where(
            Appointment.vehicle_id == order.vehicle_id,
            Appointment.notes.contains(order.number),
            Appointment.status == AppointmentStatus.BOOKED,
        )
    )
    if existing is not None:  # a double tap books once
        return existing
    appointment = Appointment(
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        advisor_id=actor.user_id,
        scheduled_at=at.astimezone(UTC),
        requested_work="; ".join(job.title for job in waiting),
        source=AppointmentSource.ACTIVE,
        notes=note,
    )
    session.add(appointment)
    await session.flush()
    audit.record(
        session, actor, "estimate.return_visit", "work_order", order.id,
        appointment=appointment.id, at=appointment.scheduled_at.isoformat(),
    )  # fmt: skip
    return appointment
