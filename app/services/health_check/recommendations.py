"""What the health check found, priced and sent: each yellow or red item becomes one
added-work supplement (the existing approval, signature and carry-forward of a decline),
priced from the checklist's catalogue codes, and one single-use link asks the customer
about all of them at once."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _, locale_as
from app.models import (
    UNANSWERED,
    ChecklistItem,
    HealthCheck,
    HealthCheckResult,
    HealthColour,
    Job,
    LabourOperation,
    Part,
    Photo,
    Role,
    Supplement,
    SupplementStatus,
    WorkOrder,
)
from app.services import audit
from app.services.audit import Actor
from app.services.documents import pdf
from app.services.estimate import editing, pricing
from app.services.health_check import checks
from app.services.outbound import mailer
from app.services.storage.files import FileStore
from app.services.supplements import added_work
from app.services.supplements import findings as finding_categories
from app.settings import Settings

PRICING_ROLES = (Role.ADVISOR.value, Role.SERVICE_MANAGER.value)
FOUND = (HealthColour.RED.value, HealthColour.YELLOW.value)


@dataclass(frozen=True)
class Recommendation:
    result: HealthCheckResult
    supplement: Supplement
    jobs: list[Job]

    @property
    def priced(self) -> bool:
        return bool(self.jobs) and all(job.lines for job in self.jobs)


def _rank(result: HealthCheckResult) -> tuple[int, int, int]:
    """Safety first, red before yellow, then the checklist's order."""
    return (0 if result.safety else 1, 0 if result.colour == HealthColour.RED else 1,
            result.position)  # fmt: skip


def note_of(result: HealthCheckResult) -> str:
    """What the customer reads: the item, the number measured, the technician's words."""
    text = checks.label(result)
    if result.measurement is not None:
        text += f" {checks.measured(result.measurement)} {result.unit or ''}".rstrip()
    if result.note:
        text = _("%(what)s: %(note)s", what=text, note=result.note)
    return text


async def _order(session: AsyncSession, check: HealthCheck) -> WorkOrder:
    order = await session.get(WorkOrder, check.work_order_id)
    assert order is not None  # noqa: S101  (foreign key)
    return order


async def listed(session: AsyncSession, check: HealthCheck) -> list[Recommendation]:
    """The priced items, in the customer's order."""
    found = [r for r in await checks.results(session, check.id) if r.supplement_id]
    out = []
    for result in sorted(found, key=_rank):
        supplement = await session.get(Supplement, result.supplement_id)
        if supplement is not None:
            out.append(
                Recommendation(result, supplement, await added_work.jobs(session, supplement))
            )
    return out


async def price(
    session: AsyncSession, order_id: int, actor: Actor, now: datetime
) -> list[Recommendation]:
    """One supplement per yellow or red item not priced yet, with the checklist's labour
    and part from the catalogue; an item whose codes the catalogue lacks is left for the
    advisor to price by hand. Pricing again adds only what is new."""
    if not actor.has_role(*PRICING_ROLES):
        raise Forbidden(_("Only the service advisor prices the health check."))
    check = await checks.of_order(session, order_id)
    if check is None or check.completed_at is None:
        raise Conflict(_("Price the health check once the technician has completed it."))
    order = await _order(session, check)
    today = now.date()
    for result in sorted(await checks.results(session, check.id), key=_rank):
        if result.colour not in FOUND or result.supplement_id is not None:
            continue
        category = result.group if result.group in finding_categories.CATEGORIES else None
        supplement = await added_work.create(
            session, order, note_of(result), actor, category=category, safety=result.safety
        )
        # Titled as the supplement: the customer's copy and a declined item's carry-forward
        # read it once.
        job = await editing.add_job(session, order, supplement.note, None, actor,
                                    supplement=supplement)  # fmt: skip
        item = await session.get(ChecklistItem, result.item_id) if result.item_id else None
        for line in await _catalogue_lines(session, item):
            catalogue, quantity = line
            job.lines.append(editing.new_line(job, catalogue, quantity, today))
        result.supplement_id = supplement.id
        await session.flush()
    audit.record(session, actor, "health_check.priced", "work_order", order.id)
    return await listed(session, check)


async def _catalogue_lines(
    session: AsyncSession, item: ChecklistItem | None
) -> list[tuple[LabourOperation | Part, Decimal]]:
    if item is None:
        return []
    lines: list[tuple[LabourOperation | Part, Decimal]] = []
    if item.labour_code:
        labour = await session.scalar(
            select(LabourOperation).where(LabourOperation.code == item.labour_code)
        )
        if labour is not None:
            lines.append((labour, labour.flat_rate_hours))
    if item.part_code:
        part = await session.scalar(select(Part).where(Part.number == item.part_code))
        if part is not None:
            lines.append((part, item.part_quantity or Decimal(1)))
    return lines


async def send(
    session: AsyncSession,
    order_id: int,
    channel: str,
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> str:
    """One link for every unanswered priced item; a new link replaces the last one.
    Returns the token (stored only as its hash)."""
    if not actor.has_role(*PRICING_ROLES):
        raise Forbidden(_("Only the service advisor sends the health check."))
    if channel not in added_work.CHANNELS:
        raise InvalidInput(_("Choose SMS, e-mail or the tablet."), field="channel")
    check = await checks.of_order(session, order_id)
    if check is None:
        raise Conflict(_("This car has no health check yet."))
    open_items = [r for r in await listed(session, check) if r.supplement.status in UNANSWERED]
    if not open_items:
        raise Conflict(_("Nothing of the health check waits for the customer's answer."))
    unpriced = [checks.label(r.result) for r in open_items if not r.priced]
    if unpriced:
        raise InvalidInput(
            _("Price these items first: %(items)s.", items=_(", ").join(unpriced)),
            field="channel",
        )
    order = await _order(session, check)
    customer = order.customer
    if channel == "email" and not customer.email:
        raise InvalidInput(_("The customer has no e-mail address."), field="channel")
    token = secrets.token_urlsafe(32)
    shop = await pricing.dealership(session)
    check.token_hash = added_work.token_hash(token)
    check.token_expires_at = now + timedelta(hours=shop.approval_link_hours)
    check.token_used_at = None
    check.sent_at = now
    check.sent_channel = channel
    for found in open_items:
        found.supplement.status = SupplementStatus.PENDING.value
        found.supplement.sent_at = now
    audit.record(session, actor, "health_check.sent", "work_order", order.id, channel=channel,
                 items=len(open_items))  # fmt: skip
    if channel != "tablet":
        link = f"{settings.public_url}/health/{token}"
        until = check.token_expires_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        with locale_as(customer.locale):
            body = _(
                "%(shop)s: the health check of your car %(plate)s found %(n)s items that "
                "need work. See them and approve or decline each before %(until)s: %(link)s",
                shop=shop.name, plate=order.vehicle.plate, n=len(open_items), until=until,
                link=link,
            )  # fmt: skip
            subject = _("The health check of your car %(plate)s", plate=order.vehicle.plate)
        if channel == "sms":
            await mailer.send_sms(session, customer.phone, body, order.id)
        else:
            await mailer.send_text(session, settings, customer.email, subject, body, order.id)
    return token


async def customer_context(
    session: AsyncSession, check: HealthCheck, locale: str, store: FileStore | None = None
) -> dict[str, Any]:
    """What the customer sees: every item's colour (the good news too), and the priced
    ones with their price, the safety sentence a decline signs, and the photos."""
    order = await _order(session, check)
    shop = await pricing.dealership(session)
    found = await checks.results(session, check.id)
    recs = await listed(session, check)
    photos = await checks.photos_by_result(session, check.id)
    return {
        "check": check, "order": order, "vehicle": order.vehicle, "customer": order.customer,
        "shop": shop, "groups": checks.grouped(found), "counts": checks.counts(found),
        "photos": photos,
        # For the customer's phone and the PDF (no staff sign-in to fetch /photos/...).
        "thumbs": await asyncio.to_thread(_thumbs, photos, store) if store else {},
        "recommendations": recs,
        "totals": {
            r.supplement.id: pricing.compute_totals(r.jobs, Decimal(0), shop.tax_rate)
            for r in recs
        },
        "statements": {
            r.supplement.id: finding_categories.safety_statement(r.supplement, locale)
            for r in recs if r.supplement.safety
        },
        "colour_labels": checks.colour_labels(), "label": checks.label,
        "measured": checks.measured, "status_labels": finding_categories.status_labels(),
        "line_amount": pricing.line_amount, "job_amount": pricing.job_amount,
    }  # fmt: skip


def _thumbs(photos: dict[int, list[Photo]], store: FileStore) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for result_id, taken in photos.items():
        uris = [pdf.thumbnail_uri(store, p.sha256) for p in taken]
        found[result_id] = [u for u in uris if u]
    return found
