"""The bill at delivery: what the customer signed for (the estimate plus the approved
added work, as signed) against what the order charges now, and the parts replaced."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    UNANSWERED,
    Job,
    JobLine,
    LineKind,
    Signature,
    SignatureKind,
    Supplement,
    SupplementStatus,
    WorkOrder,
)
from app.services.estimate import pricing


@dataclass(frozen=True)
class Bill:
    """What the customer signed for against what the order now charges."""

    signed_total: Decimal  # the signed estimate plus the approved supplements, as signed
    current_total: Decimal  # the same jobs, priced from the database now
    unapproved: list[Supplement]  # findings with no answer yet (draft or sent)

    @property
    def matches(self) -> bool:
        return self.signed_total == self.current_total and not self.unapproved


def _total(signature: Signature) -> Decimal:
    return Decimal(json.loads(signature.content)["totals"]["total"])


async def bill(session: AsyncSession, order: WorkOrder) -> Bill:
    shop = await pricing.dealership(session)
    signed = (
        await session.scalars(
            select(Signature)
            .where(
                Signature.work_order_id == order.id,
                Signature.kind.in_(
                    (SignatureKind.WORK_ORDER.value, SignatureKind.SUPPLEMENT.value)
                ),
            )
            .order_by(Signature.id)
        )
    ).all()
    signed_total = sum(
        (
            _total(s)
            for s in signed
            if s.kind == SignatureKind.WORK_ORDER.value
            or s.decision == SupplementStatus.APPROVED.value
        ),
        Decimal("0.00"),
    )
    # Priced the way each part was signed: the order with its discount, each
    # approved supplement on its own (so rounding matches to the cent).
    current = pricing.compute_totals(
        await pricing.order_jobs(session, order), order.discount_amount, shop.tax_rate
    ).total
    supplements = (
        await session.scalars(
            select(Supplement).where(Supplement.work_order_id == order.id).order_by(Supplement.id)
        )
    ).all()
    unapproved = []
    for supplement in supplements:
        jobs = list(
            (await session.scalars(select(Job).where(Job.supplement_id == supplement.id))).all()
        )
        if supplement.status == SupplementStatus.APPROVED.value:
            current += pricing.compute_totals(jobs, Decimal("0"), shop.tax_rate).total
        elif supplement.status in UNANSWERED:
            # Priced or not: the customer must have heard of it before the car leaves.
            unapproved.append(supplement)
    return Bill(signed_total, current, unapproved)


async def replaced_parts(session: AsyncSession, order: WorkOrder) -> list[JobLine]:
    jobs = await pricing.order_jobs(session, order, with_supplements=True)
    return [
        line
        for job in jobs
        if job.declined_at is None
        for line in job.lines
        if line.kind == LineKind.PART
    ]
