"""Customer mode on the review screens: which order the handed-over tablet holds,
in which language, and who may sign on it.

The lock itself lives on the session row (`sessions.enter_customer_mode`); these
are the rules the review pages apply to it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _, locale_as
from app.models import Signature, StaffSession, WorkOrder
from app.services import audit, phones
from app.services.audit import Actor
from app.services.delivery import acceptance as delivery_acceptance
from app.services.delivery import handover as delivery_handover
from app.services.documents import work_order_pdf
from app.services.estimate import view as estimate_view
from app.services.outbound import mailer
from app.services.signing import signatures
from app.services.storage.files import FileStore
from app.services.verify import customer as customer_verify
from app.settings import SUPPORTED_LOCALES, Settings

CHANNELS = ("sms", "email")


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


def _handed_over(locked: int | None, order: WorkOrder) -> None:
    """Only the customer signs, on the tablet the advisor handed over for this order."""
    if locked != order.id:
        raise Conflict(_("Hand the tablet to the customer to sign."))


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
    _handed_over(locked, order)
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


async def send_copy(
    db: AsyncSession,
    order: WorkOrder,
    settings: Settings,
    store: FileStore,
    *,
    channel: str,
    to: str | None,
    actor: Actor,
) -> str:
    """The customer's copy to their phone (a text with the link to check it and open the
    PDF) or e-mail (the PDF attached), through the outbox; returns what to tell them."""
    signature = await signatures.work_order_signature(db, order)
    if signature is None:
        raise Conflict(_("This work order is not signed yet."))
    content = json.loads(signature.content)
    if channel == "sms":
        number = phones.check(to or "", settings.region)
        with locale_as(signature.locale):
            body = _(
                "%(dealer)s: your signed work order %(number)s. Check it and open the PDF: "
                "%(url)s",
                dealer=content.get("dealership", {}).get("name", ""), number=order.number,
                url=customer_verify.url(settings, signature.id),
            )  # fmt: skip
        await mailer.send_sms(db, number, body, order.id)
        audit.record(db, actor, "customer_copy.sms", "work_order", order.id)
        return _("A text message with the link to your copy goes to %(to)s.", to=number)
    if channel == "email":
        address = mailer.check_address(to)
        pdf = await work_order_pdf.render_async(signature, content, store, settings)
        audit.record(db, actor, "customer_copy.email", "work_order", order.id)
        await mailer.send_work_order(db, settings, signature, pdf, address)
        return _("Your copy goes to %(to)s by e-mail.", to=address)
    raise InvalidInput(_("Choose a text message or an e-mail."))


async def next_screen(db: AsyncSession, order: WorkOrder) -> str | None:
    """Where the review's address leads once the work order is signed: the delivery
    acceptance when the car is being handed back, else the thanks page."""
    if order.signed_at is None:
        return None
    if await delivery_handover.get_delivery(db, order.id) is not None:
        return f"/review/{order.id}/delivery"
    return f"/review/{order.id}/thanks"


async def sign_delivery(
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
    """The customer signs the delivery acceptance on the tablet the advisor handed over."""
    _handed_over(locked, order)
    return await delivery_acceptance.sign(
        db, order.id, signer_name=signer_name, strokes_json=strokes_json,
        image_data_url=image_data_url, locale=review_locale(row, order), currency=currency,
        actor=actor, now=now, version=version,
    )  # fmt: skip


async def back_to(db: AsyncSession, order_id: int | None) -> str:
    """The staff screen the advisor returns to when customer mode ends: the delivered car
    after the acceptance, else the work order (added work, the order's own signature)."""
    if order_id is None:
        return "/lane"
    record = await delivery_handover.get_delivery(db, order_id)
    if record is not None and record.signature_id is not None:
        return f"/delivery/{order_id}"
    return f"/work-orders/{order_id}"
