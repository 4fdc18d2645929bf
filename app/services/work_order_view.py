"""The work order's own page and its signatures checked by staff: what the screens
show, gathered from the features that each own a part of the order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import Signature
from app.services.audit import Actor
from app.services.delivery import handover as delivery
from app.services.estimate import view as estimate_view
from app.services.final_check import report as final_check_report
from app.services.records import get_or_404
from app.services.signing import signatures
from app.services.supplements import findings
from app.settings import Settings


async def page_context(
    session: AsyncSession, order_id: int, settings: Settings, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The estimate as it stands, with the delivery, final QC reports and findings."""
    order = await estimate_view.get_order(session, order_id)
    ctx = await estimate_view.context(session, order, settings, actor, now)
    ctx["delivery"] = await delivery.get_delivery(session, order.id)
    ctx["qc_reports"] = await final_check_report.for_order(session, order.id)
    ctx |= await findings.order_context(session, order.id)
    return ctx


async def verification(
    session: AsyncSession, signature_id: int, currency: str
) -> signatures.Verification:
    """The signed record recomputed from the database: intact, or what differs."""
    signature = await get_or_404(
        session, Signature, signature_id, _("That signature does not exist.")
    )
    return await signatures.verify(session, signature, currency)


def verification_json(result: signatures.Verification) -> dict[str, Any]:
    """The same check for a machine (the dealer system, an auditor's script)."""
    signature = result.signature
    return {
        "signature_id": signature.id,
        "work_order_id": signature.work_order_id,
        "kind": signature.kind,
        "signed_at": signature.signed_at.isoformat(),
        "signer_name": signature.signer_name,
        "content_hash": signature.content_hash,
        "intact": result.intact,
        "content_matches_hash": result.content_matches_hash,
        "seal_matches": result.seal_matches,
        "differences": [
            {"path": d.path, "signed": d.signed, "now": d.now} for d in result.differences
        ],
    }
