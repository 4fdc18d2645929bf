"""What the advisor's added-work editor and the customer's approval page show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StaffUser, Supplement, WorkOrder
from app.services.estimate import pricing
from app.services.supplements import added_work, findings


async def context(
    session: AsyncSession, supplement: Supplement, order: WorkOrder
) -> dict[str, Any]:
    shop = await pricing.dealership(session)
    found = await added_work.jobs(session, supplement)
    people = {
        role: await session.get(StaffUser, user_id) if user_id else None
        for role, user_id in (
            ("reporter", supplement.requested_by_id),
            ("withdrawn_by", supplement.withdrawn_by_id),
        )
    }
    return {
        **people,
        "category_labels": findings.category_labels(),
        "status_labels": findings.status_labels(),
        "photos": await findings.photos_of(session, supplement),
        "supplement": supplement,
        "order": order,
        "vehicle": order.vehicle,
        "customer": order.customer,
        "jobs": found,
        # Added work is priced on its own: the order's discount stays on the estimate.
        "totals": pricing.compute_totals(found, Decimal("0"), shop.tax_rate),
        "line_amount": pricing.line_amount,
        "job_amount": pricing.job_amount,
    }


async def approval_context(
    session: AsyncSession, supplement: Supplement, order: WorkOrder, token: str
) -> dict[str, Any]:
    """The editor's context, with what the customer's page adds: the link's token,
    the dealership, and the safety statement for a safety finding."""
    statement = (
        findings.safety_statement(supplement, order.customer.locale) if supplement.safety else None
    )
    return {
        **await context(session, supplement, order),
        "token": token,
        "shop": await pricing.dealership(session),
        "statement": statement,
        "safety_warning": findings.safety_warning(supplement) if supplement.safety else "",
    }
