"""What the estimate and the customer's review screens show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import Appointment, CheckIn, Photo, Supplement, WorkOrder
from app.services.audit import Actor
from app.services.check_in import symptoms
from app.services.check_in.view import GUIDED_POSITIONS, labels
from app.services.estimate import editing, menus, pricing, ready, terms
from app.services.photos import receive as check_in_photos
from app.services.records import get_or_404
from app.services.signing import signatures
from app.services.workshop import promised_time
from app.settings import Settings


async def get_order(session: AsyncSession, order_id: int) -> WorkOrder:
    return await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))


async def context(
    session: AsyncSession, order: WorkOrder, settings: Settings, actor: Actor, now: datetime
) -> dict[str, Any]:
    shop = await pricing.dealership(session)
    jobs = await pricing.order_jobs(session, order)
    totals = pricing.compute_totals(jobs, order.discount_amount, shop.tax_rate)
    check_in = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    proposal = await promised_time.propose(session, shop, jobs, now, settings.tz)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "promised_local": local(order.promised_at),
        "proposal_local": local(proposal.promised_at),
        "order": order,
        "vehicle": order.vehicle,
        "customer": order.customer,
        "check_in": check_in,
        "jobs": jobs,
        "totals": totals,
        "shop": shop,
        "proposal": proposal,
        "suggestions": await menus.menu_suggestions(session, order),
        "problems": ready.problems_before_signing(order, jobs),
        "discount_limit": await terms.discount_limit(session, order, actor),
        "can_override_price": actor.has_role(*editing.PRICE_OVERRIDE_ROLES),
        "line_amount": pricing.line_amount,
        "job_amount": pricing.job_amount,
        "signature": await signatures.work_order_signature(session, order),
        "return_visit": await session.scalar(
            select(Appointment).where(
                Appointment.vehicle_id == order.vehicle_id,
                Appointment.notes.contains(order.number),
            )
        )
        if proposal.parts_on
        else None,
        "supplements": (
            await session.scalars(
                select(Supplement)
                .where(Supplement.work_order_id == order.id)
                # A safety finding heads the list the advisor works through.
                .order_by(Supplement.safety.desc(), Supplement.number)
            )
        ).all(),
    }


@dataclass(frozen=True)
class Shown:
    """One check-in photo as the customer sees it: in walkaround order, with its caption."""

    photo: Photo
    caption: str


def gallery(
    latest: dict[str, Photo], photos: list[Photo], marks: dict[int, int], names: dict[str, str]
) -> list[Shown]:
    """The walkaround positions in the order the advisor walks them, then each damage
    mark's photos numbered as on the diagram."""
    shown = [Shown(latest[p], names.get(p, p)) for p in GUIDED_POSITIONS if p in latest]
    marked = sorted(
        (p for p in photos if p.damage_mark_id is not None and p.damage_mark_id in marks),
        key=lambda p: marks[p.damage_mark_id or 0],
    )
    shown += [Shown(p, _("Damage %(n)s", n=marks[p.damage_mark_id or 0] + 1)) for p in marked]
    return shown


async def review_context(
    session: AsyncSession, order: WorkOrder, settings: Settings, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The estimate's context plus the check-in record the customer reviews."""
    ctx = await context(session, order, settings, actor, now)
    check_in = ctx["check_in"]
    photos = await check_in_photos.of_check_in(session, check_in.id) if check_in else []
    latest: dict[str, Photo] = {}
    for photo in photos:
        if photo.position and photo.damage_mark_id is None:
            latest[photo.position] = photo
    names = labels()
    marks = {m.id: n for n, m in enumerate(check_in.damage_marks)} if check_in else {}
    ctx |= {
        "positions": [p for p in GUIDED_POSITIONS if p in latest],
        "photos_by_position": latest,
        "mark_photos": [p for p in photos if p.damage_mark_id is not None],
        "gallery": gallery(latest, photos, marks, names["positions"]),
        "labels": names,
        "read_back": symptoms.summary(check_in, order.customer.name) if check_in else [],
    }
    return ctx
