"""Added work (增加项目): priced by the advisor, approved or refused by the
customer before it is done — on the tablet, or through a single-use link
that expires. The decision is signed and hashed like the work order."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.i18n import _, locale_as
from app.models import (
    UNANSWERED,
    Job,
    Signature,
    Supplement,
    SupplementStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, events
from app.services.audit import Actor
from app.services.estimate import editing as estimate
from app.services.estimate import pricing, terms
from app.services.outbound import mailer
from app.services.supplements import findings, signed
from app.settings import Settings

CHANNELS = ("sms", "email", "tablet")
OPEN_STATUSES = (
    WorkOrderStatus.SIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.QC,
    WorkOrderStatus.READY,
)  # fmt: skip


class LinkExpired(DomainError):
    status_code = 410


class Withdrawn(Conflict):
    """The advisor took the request back: nothing for the customer to answer."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def get(session: AsyncSession, supplement_id: int) -> tuple[Supplement, WorkOrder]:
    supplement = await session.get(Supplement, supplement_id)
    if supplement is None:
        raise NotFound(_("That supplement does not exist."))
    order = await session.get(WorkOrder, supplement.work_order_id)
    assert order is not None  # noqa: S101  (foreign key)
    return supplement, order


async def jobs(session: AsyncSession, supplement: Supplement) -> list[Job]:
    return list(
        (
            await session.scalars(
                select(Job).where(Job.supplement_id == supplement.id).order_by(Job.id)
            )
        ).all()
    )


async def create(
    session: AsyncSession,
    order: WorkOrder,
    note: str | None,
    actor: Actor,
    category: str | None = None,
    safety: bool = False,
) -> Supplement:
    """A finding; a safety category is always a safety finding, and the technician
    may flag any other one as such."""
    if order.signed_at is None or order.status not in OPEN_STATUSES:
        raise Conflict(_("Added work needs a signed work order that is still open."))
    number = (
        await session.scalar(
            select(func.coalesce(func.max(Supplement.number), 0)).where(
                Supplement.work_order_id == order.id
            )
        )
        or 0
    ) + 1
    supplement = Supplement(
        work_order_id=order.id,
        number=number,
        note=" ".join((note or "").split())[:1000],
        requested_by_id=actor.user_id,
        category=category,
        safety=safety or category in findings.SAFETY_CATEGORIES,
    )
    session.add(supplement)
    await session.flush()
    audit.record(
        session, actor, "supplement.create", "work_order", order.id, supplement=supplement.id
    )
    return supplement


async def remove_line(
    session: AsyncSession, supplement: Supplement, line_id: int, actor: Actor
) -> None:
    estimate.ensure_draft(supplement)
    for job in await jobs(session, supplement):
        for line in job.lines:
            if line.id == line_id:
                job.lines.remove(line)
                await session.delete(line)
                audit.record(
                    session, actor, "supplement.remove_line", "work_order",
                    supplement.work_order_id, supplement=supplement.id, code=line.code,
                )  # fmt: skip
                return
    raise NotFound(_("That line is not on this supplement."))


async def set_promised_at(
    session: AsyncSession,
    supplement: Supplement,
    raw: str | None,
    tz: ZoneInfo,
    actor: Actor,
    now: datetime,
) -> None:
    estimate.ensure_draft(supplement)
    promised = terms.parse_local_time(raw, tz)
    if promised <= now:
        raise InvalidInput(_("The promised time must be in the future."), field="promised_at")
    supplement.promised_at = promised
    audit.record(
        session, actor, "supplement.promised_at", "work_order", supplement.work_order_id,
        supplement=supplement.id, at=promised.isoformat(),
    )  # fmt: skip


def _problems(found: list[Job]) -> list[str]:
    if not found:
        return [_("Add the work the customer is asked to approve.")]
    return [
        _("“{title}” has no labour or parts yet.").format(title=job.title)
        for job in found
        if not job.lines
    ]


async def send(
    session: AsyncSession,
    supplement: Supplement,
    order: WorkOrder,
    channel: str,
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> str:
    """Ask the customer: a single-use link by SMS or e-mail, or on this tablet.
    Returns the link's token (it is stored only as a hash)."""
    if channel not in CHANNELS:
        raise InvalidInput(_("Choose SMS, e-mail or the tablet."), field="channel")
    if supplement.status == SupplementStatus.WITHDRAWN.value:
        raise Conflict(_("This finding was withdrawn by the advisor; it cannot be sent."))
    if supplement.status not in UNANSWERED:
        raise Conflict(_("The customer has already answered this supplement."))
    problems = _problems(await jobs(session, supplement))
    if problems:
        raise InvalidInput(" ".join(problems))
    customer = order.customer
    if channel == "email" and not customer.email:
        raise InvalidInput(_("The customer has no e-mail address."), field="channel")
    token = secrets.token_urlsafe(32)
    shop = await pricing.dealership(session)
    # A new link replaces the previous one: only the latest works.
    supplement.token_hash = token_hash(token)
    supplement.token_expires_at = now + timedelta(hours=shop.approval_link_hours)
    supplement.token_used_at = None
    supplement.status = SupplementStatus.PENDING.value
    supplement.sent_at = now
    link = f"{settings.public_url}/approve/{token}"
    audit.record(
        session, actor, "supplement.sent", "work_order", order.id,
        supplement=supplement.id, channel=channel,
    )  # fmt: skip
    if channel != "tablet":
        extra = pricing.compute_totals(await jobs(session, supplement), Decimal("0"), shop.tax_rate)
        until = supplement.token_expires_at.astimezone(settings.tz)
        with locale_as(customer.locale):
            body = _(
                "%(shop)s: your car %(plate)s needs added work (%(amount)s). "
                "Please approve or decline before %(until)s: %(link)s",
                shop=shop.name, plate=order.vehicle.plate,
                amount=f"{extra.total:,.2f} {settings.currency}",
                until=until.strftime("%Y-%m-%d %H:%M"),
                link=link,
            )  # fmt: skip
            subject = _("Added work for your car %(plate)s", plate=order.vehicle.plate)
            if supplement.safety:
                # The customer reads the danger before the price.
                warning = findings.safety_warning(supplement)
                body = f"⚠ {warning} {body}"
                subject = f"⚠ {warning} {subject}"
        if channel == "sms":
            await mailer.send_sms(session, customer.phone, body, order.id)
        else:
            # Commits: the link exists before the mail server is asked to carry it.
            await mailer.send_text(session, settings, customer.email, subject, body, order.id)
    return token


def _answerable(supplement: Supplement) -> None:
    if supplement.status == SupplementStatus.WITHDRAWN.value:
        raise Withdrawn(
            _("Your service advisor has withdrawn this request. There is nothing to answer.")
        )
    if supplement.status not in UNANSWERED:
        raise Conflict(_("This link has already been used. Your answer was recorded."))


async def by_token(session: AsyncSession, token: str, now: datetime) -> Supplement:
    """The supplement a link points to; refuses a tampered, used or expired link."""
    if not token or len(token) > 100:
        raise NotFound(_("This approval link is not valid."))
    supplement = await session.scalar(
        select(Supplement).where(Supplement.token_hash == token_hash(token))
    )
    if supplement is None:
        raise NotFound(_("This approval link is not valid."))
    if supplement.token_used_at is not None:
        raise Conflict(_("This link has already been used. Your answer was recorded."))
    _answerable(supplement)
    if supplement.token_expires_at is None or supplement.token_expires_at <= now:
        raise LinkExpired(
            _("This link has expired. Please ask your service advisor to send a new one.")
        )
    return supplement


async def decide(
    session: AsyncSession,
    supplement: Supplement,
    order: WorkOrder,
    *,
    approve: bool,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    locale: str,
    currency: str,
    actor: Actor,
    now: datetime,
    acknowledged: bool = False,
) -> Signature:
    _answerable(supplement)
    decision = SupplementStatus.APPROVED if approve else SupplementStatus.DECLINED
    if supplement.safety and not approve:
        if not acknowledged:
            raise InvalidInput(
                _("To decline, tick the sentence that you were told about this safety issue."),
                field="acknowledge",
            )
        # Part of the signed record, so its verification covers it.
        supplement.safety_statement = findings.safety_statement(supplement, locale)
    signature = await signed.sign(
        session, order, supplement, decision=decision.value, signer_name=signer_name,
        strokes_json=strokes_json, image_data_url=image_data_url, locale=locale,
        currency=currency, actor=actor, now=now,
    )  # fmt: skip
    supplement.status = decision.value
    supplement.decided_at = now
    supplement.token_used_at = now
    found = await jobs(session, supplement)
    if not approve:
        findings.carry_forward(session, order, supplement, found, now)
    # The workshop opens the approved jobs' tasks and its board reloads; the dealer
    # system hears of the decision (listeners of their own).
    await events.publish(
        session, events.SupplementDecided(order, supplement, found, approve, actor)
    )
    audit.record(
        session, actor, f"supplement.{decision.value}", "work_order", order.id,
        supplement=supplement.id, signature=signature.id, content_hash=signature.content_hash,
    )  # fmt: skip
    return signature
