"""The delivery acceptance: what the customer is shown at handover, signed and
hashed like the work order, and verifiable the same way."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import _
from app.models import (
    FollowUpTask,
    Inspection,
    Signature,
    SignatureKind,
    StaffUser,
    Supplement,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, events, work_orders
from app.services.audit import Actor
from app.services.delivery import handover as delivery
from app.services.final_check import inspection as final_check
from app.services.signing import signatures
from app.services.signing.content import amount, iso, quantity

# /2 adds the final QC report's items and verdict; a /1 record is verified as /1.
DELIVERY_SCHEMA = "walkaround.delivery/2"
DELIVERY_SCHEMA_V1 = "walkaround.delivery/1"


def _final_check(
    inspection: Inspection | None, inspector: StaffUser | None, applicable: list[str], schema: str
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "round": inspection.round if inspection else None,
        "inspector": inspector.display_name if inspector else "",
        "at": iso(inspection.created_at) if inspection else None,
        "odometer_km": inspection.odometer_km if inspection else None,
        "fuel_eighths": inspection.fuel_eighths if inspection else None,
    }
    if schema != DELIVERY_SCHEMA_V1:
        ticked = set(inspection.ticked or []) if inspection else set()
        record["passed"] = bool(inspection and inspection.passed)
        record["items"] = {
            key: key in ticked for key in final_check.ITEMS if key in applicable or key in ticked
        }
    return record


async def content(
    session: AsyncSession,
    st: delivery.State,
    locale: str,
    currency: str,
    work_order_hash: str,
    schema: str = DELIVERY_SCHEMA,
) -> dict[str, Any]:
    """Built from the database both when signing and when verifying (in the
    schema the record was signed in)."""
    order = st.order
    supplements = (
        await session.execute(
            select(Supplement.number, Signature.decision, Signature.content_hash)
            .join(Signature, Signature.supplement_id == Supplement.id)
            .where(Supplement.work_order_id == order.id)
            .order_by(Supplement.number)
        )
    ).all()
    inspection = st.inspection
    inspector = await session.get(StaffUser, inspection.inspector_id) if inspection else None
    d = st.delivery
    return {
        "schema": schema,
        "locale": locale,
        "currency": currency,
        "order": {"number": order.number, "rework_count": order.rework_count},
        "work_order_hash": work_order_hash,
        "supplements": [
            {"number": n, "decision": decision, "hash": h} for n, decision, h in supplements
        ],
        "bill": {
            "signed_total": amount(st.bill.signed_total),
            "total": amount(st.bill.current_total),
        },
        "final_check": _final_check(
            inspection, inspector, final_check.applicable(order, st.check_in), schema
        ),
        "comparison": [
            {
                "position": c.position,
                "check_in": c.check_in.sha256,
                "delivery": c.delivery.sha256 if c.delivery else None,
            }
            for c in st.comparisons
        ],
        "new_damage": [
            {"position": dmg.position, "note": dmg.note, "photos": [p.sha256 for p in shots]}
            for dmg, shots in st.new_damage
        ],
        "replaced_parts": [
            {
                "code": ln.code,
                "name_zh": ln.name_zh,
                "name_en": ln.name_en,
                "quantity": quantity(ln.quantity),
            }
            for ln in st.replaced_parts
        ],
        "old_parts_returned": bool(order.consent_keep_old_parts),
        "old_parts_shown": bool(d and d.old_parts_shown),
        "advice": d.advice if d else "",
        "next_service": {
            "on": iso(d.next_service_on) if d else None,
            "km": d.next_service_km if d else None,
        },
    }


async def sign(
    session: AsyncSession,
    order_id: int,
    *,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    locale: str,
    currency: str,
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> Signature:
    st = await delivery.state(session, order_id)
    record = delivery.ensure_can_sign(st, actor)
    if version is not None and version != st.order.version:
        raise Conflict(_("Someone else changed this work order. Reload to see the latest."))
    original = await signatures.work_order_signature(session, st.order)
    if original is None:
        raise Conflict(_("The work order was never signed."))
    body = await content(session, st, locale, currency, original.content_hash, DELIVERY_SCHEMA)
    signature = signatures.sign_content(
        session, st.order, SignatureKind.DELIVERY, body,
        signer_name=signer_name, strokes_json=strokes_json, image_data_url=image_data_url,
        locale=locale, actor=actor, now=now,
    )  # fmt: skip
    await session.flush()
    record.signature_id = signature.id
    record.delivered_at = now
    st.order.delivered_at = now
    work_orders.change_status(session, st.order, WorkOrderStatus.DELIVERED, actor)
    # The follow-up call is scheduled and the boards reload (listeners of their own).
    await events.publish(session, events.CarDelivered(st.order, st.check_in, actor, now))
    await session.flush()
    follow_up = await session.scalar(
        select(FollowUpTask.id).where(FollowUpTask.work_order_id == st.order.id)
    )
    audit.record(
        session, actor, "delivery.signed", "work_order", st.order.id,
        signature=signature.id, content_hash=signature.content_hash, follow_up=follow_up,
    )  # fmt: skip
    return signature


async def current(
    session: AsyncSession, signature: Signature, order: WorkOrder, currency: str
) -> dict[str, Any]:
    """The delivery record as the database holds it now, for verification
    (registered with signing as the `delivery` kind)."""
    st = await delivery.state(session, order.id)
    original = await signatures.work_order_signature(session, st.order)
    schema = json.loads(signature.content).get("schema", DELIVERY_SCHEMA_V1)
    return await content(
        session,
        st,
        signature.locale,
        currency,
        original.content_hash if original else "",
        schema,
    )
