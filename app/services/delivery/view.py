"""What the delivery screens show: the handover state with the people, photos,
report and links around it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import get_locale
from app.models import PhotoPosition, Signature, StaffUser, WorkOrderStatus
from app.services.check_in.view import labels as check_in_labels
from app.services.delivery import handover as delivery
from app.services.final_check import report as final_check_report
from app.services.signing import signatures
from app.services.verify import customer as customer_verify
from app.settings import Settings


async def _customer_link(
    db: AsyncSession, st: delivery.State, settings: Settings
) -> customer_verify.Link | None:
    """The customer's own check of the order, delivery acceptance included."""
    original = await signatures.work_order_signature(db, st.order)
    return customer_verify.link(settings, original.id) if original else None


async def context(
    db: AsyncSession, order_id: int, settings: Settings, now: datetime, *, oob: bool = False
) -> dict[str, Any]:
    st = await delivery.state(db, order_id)
    inspection = st.inspection
    inspector = await db.get(StaffUser, inspection.inspector_id) if inspection else None
    signature = (
        await db.get(Signature, st.delivery.signature_id)
        if st.delivery and st.delivery.signature_id
        else None
    )
    today = now.astimezone(settings.tz).date()
    return {
        "st": st,
        "order": st.order,
        "vehicle": st.order.vehicle,
        "customer": st.order.customer,
        "check_in": st.check_in,
        "inspector": inspector,
        "qc_report": await final_check_report.of(db, inspection),
        "verify": await _customer_link(db, st, settings) if signature else None,
        "signature": signature,
        "positions": list(PhotoPosition),
        "position_labels": check_in_labels()["positions"],
        "check_in_labels": check_in_labels(),
        "ready": st.order.status == WorkOrderStatus.READY and inspection is not None,
        "missing_photos": {c.position for c in st.comparisons if c.delivery is None},
        "next_step": delivery.next_step(st),
        "tomorrow": today + timedelta(days=1),
        "locale": get_locale(),
        "oob": oob,
    }
