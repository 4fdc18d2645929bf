"""Customer mode on the review screens: which order the handed-over tablet holds,
in which language, and who may sign on it.

The lock itself lives on the session row (`sessions.enter_customer_mode`); these
are the rules the review pages apply to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import Signature, StaffSession, WorkOrder
from app.services.audit import Actor
from app.services.estimate import view as estimate_view
from app.services.signing import signatures
from app.services.verify import customer as customer_verify
from app.settings import SUPPORTED_LOCALES, Settings


def review_locale(row: StaffSession | None, order: WorkOrder) -> str:
    """The language chosen on this tablet, else the customer's own, else the first supported."""
    chosen = row.customer_locale if row is not None else None
    locale = chosen if chosen in SUPPORTED_LOCALES else order.customer.locale
    return locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


async def order_in_hand(db: AsyncSession, locked: int | None, order_id: int) -> WorkOrder:
    """The order the tablet is locked to (staff outside customer mode may preview any)."""
    if locked is not None and locked != order_id:
        raise Forbidden(_("The tablet is in customer mode for another order."))
    return await estimate_view.get_order(db, order_id)


def choose_language(row: StaffSession | None, order: WorkOrder, locale: str) -> None:
    """The customer picks the review's language; their copy and messages follow it."""
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(_("Unknown language."))
    if row is not None:
        row.customer_locale = locale
    order.customer.locale = locale


async def sign(
    db: AsyncSession,
    order: WorkOrder,
    locked: int | None,
    row: StaffSession | None,
    *,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    currency: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> Signature:
    """The customer signs the work order on the tablet the advisor handed over, never staff."""
    if locked != order.id:
        raise Conflict(_("Hand the tablet to the customer to sign."))
    return await signatures.sign_work_order(
        db, order, signer_name=signer_name, strokes_json=strokes_json,
        image_data_url=image_data_url, locale=review_locale(row, order), currency=currency,
        version=version, actor=actor, now=now,
    )  # fmt: skip


async def thanks_context(db: AsyncSession, order: WorkOrder, settings: Settings) -> dict[str, Any]:
    """The signed order with its signature and the customer's own verify link."""
    signature = await signatures.work_order_signature(db, order)
    if signature is None:
        raise Conflict(_("This work order is not signed yet."))
    return {
        "order": order,
        "signature": signature,
        "verify": customer_verify.link(settings, signature.id),
    }
