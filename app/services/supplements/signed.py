"""The record the customer signs to approve or decline added work: the supplement's
jobs, priced, bound to the signed work order by its hash, and the decision.

Built here both when signing and when verifying (registered with signing as the
`supplement` kind), so signing itself knows nothing of supplements."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import _
from app.models import Job, Signature, SignatureKind, Supplement, WorkOrder
from app.services.audit import Actor
from app.services.estimate import pricing
from app.services.signing import signatures
from app.services.signing.content import header, iso, job_record, totals_record

SUPPLEMENT_SCHEMA = "walkaround.supplement/1"


async def content(
    session: AsyncSession,
    order: WorkOrder,
    supplement: Supplement,
    decision: str,
    locale: str,
    currency: str,
    original_hash: str,
) -> dict[str, Any]:
    """Added work, priced, bound to the signed work order by its hash, and the decision."""
    shop = await pricing.dealership(session)
    jobs = list(
        (
            await session.scalars(
                select(Job).where(Job.supplement_id == supplement.id).order_by(Job.id)
            )
        ).all()
    )
    extra = pricing.compute_totals(jobs, Decimal("0"), shop.tax_rate)
    # Only findings reported with a category carry these keys, so records signed
    # before they existed still verify as they were signed.
    finding: dict[str, Any] = {}
    if supplement.category is not None:
        finding["finding"] = {"category": supplement.category, "safety": supplement.safety}
    if supplement.safety_statement is not None:
        finding["safety_statement"] = supplement.safety_statement
    return {
        **finding,
        "schema": SUPPLEMENT_SCHEMA,
        "locale": locale,
        **await header(session, order, currency),
        "work_order_hash": original_hash,
        "supplement": {
            "number": supplement.number,
            "note": supplement.note,
            "promised_at": iso(supplement.promised_at),
        },
        "jobs": [job_record(j) for j in jobs],
        "totals": totals_record(extra, order) | {"discount_reason": ""},
        "decision": decision,
    }


async def sign(
    session: AsyncSession,
    order: WorkOrder,
    supplement: Supplement,
    *,
    decision: str,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    locale: str,
    currency: str,
    actor: Actor,
    now: datetime,
) -> Signature:
    """The customer approves or refuses added work; signed and hashed like the order."""
    original = await signatures.work_order_signature(session, order)
    if original is None:
        raise Conflict(_("The work order must be signed before added work."))
    record = await content(
        session, order, supplement, decision, locale, currency, original.content_hash
    )
    signature = signatures.sign_content(
        session, order, SignatureKind.SUPPLEMENT, record,
        signer_name=signer_name, strokes_json=strokes_json, image_data_url=image_data_url,
        locale=locale, actor=actor, now=now, decision=decision, supplement_id=supplement.id,
    )  # fmt: skip
    await session.flush()
    return signature


async def current(
    session: AsyncSession, signature: Signature, order: WorkOrder, currency: str
) -> dict[str, Any]:
    """The record as the database holds it now, for verification."""
    if not signature.supplement_id:
        return {}
    supplement = await session.get(Supplement, signature.supplement_id)
    original = await signatures.work_order_signature(session, order)
    if supplement is None or original is None:
        return {}
    return await content(
        session, order, supplement, signature.decision, signature.locale, currency,
        original.content_hash,
    )  # fmt: skip
