"""The order's terms on the estimate: the discount, the promised time, the customer's consents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.errors import Forbidden, InvalidInput
from app.i18n import _
from app.models import WorkOrder
from app.services import audit
from app.services.audit import Actor
from app.services.estimate.guards import ensure_estimating, touch
from app.services.estimate.pricing import CENT, compute_totals, dealership, money, order_jobs


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
    value = parsing.decimal(amount or "0", "discount")
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
    touch(order)
    audit.record(
        session, actor, "estimate.discount", "work_order", order.id, amount=str(value), reason=why
    )
    return value


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
    touch(order)
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
    touch(order)
    audit.record(session, actor, "estimate.consent", "work_order", order.id, **{name: value})
