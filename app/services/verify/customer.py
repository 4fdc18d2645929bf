"""The customer's own check of their signed copy, without a staff sign-in.

The copy (PDF, thanks page, delivery) carries a link and QR code to `/v/{token}`.
The token names the order's work-order signature and carries an HMAC of it
(128 bits) under a key derived from the app's secret: unguessable, nothing to
store, the same on every reprint of the copy, and it never stops working while
the record exists (it does not depend on anything a change to the record could
touch). It opens the checks of that one order and nothing else.

Changing `WALKAROUND_SECRET_KEY` invalidates the links already printed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.i18n import _
from app.models import Signature, SignatureKind
from app.services.signing import signatures
from app.services.signing.signatures import Verification
from app.services.verify import qr
from app.settings import Settings

PURPOSE = b"walkaround.customer-verify/1"
MAC_BYTES = 16  # 128 bits
MAX_TOKEN = 64
KIND_ORDER = (SignatureKind.WORK_ORDER, SignatureKind.SUPPLEMENT, SignatureKind.DELIVERY)


def _mac(secret: str, signature_id: int) -> bytes:
    # A key of its own, so a verify token can never pass for a session or CSRF token.
    key = hmac.new(secret.encode("utf-8"), PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, str(signature_id).encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]


def token(secret: str, signature_id: int) -> str:
    mac = base64.urlsafe_b64encode(_mac(secret, signature_id)).rstrip(b"=").decode("ascii")
    return f"{signature_id}.{mac}"


def signature_id(secret: str, raw: str) -> int | None:
    """The signature a token names, or None for anything that is not a genuine token."""
    if len(raw) > MAX_TOKEN:
        return None
    number, _dot, mac = raw.partition(".")
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    try:
        given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except ValueError:
        return None
    found = int(number)
    return found if hmac.compare_digest(given, _mac(secret, found)) else None


def url(settings: Settings, signature_id: int) -> str:
    return f"{settings.public_url}/v/{token(settings.secret_key, signature_id)}"


@dataclass(frozen=True)
class OrderCheck:
    work_order: Signature  # the signature the token names
    checks: list[Verification]  # work order, added work, delivery: in that order, then by time

    @property
    def intact(self) -> bool:
        return all(check.intact for check in self.checks)


async def work_order_signature(session: AsyncSession, settings: Settings, raw: str) -> Signature:
    """The signed work order a genuine token names; NotFound for a guessed or cut one."""
    found = signature_id(settings.secret_key, raw)
    anchor = await session.get(Signature, found) if found is not None else None
    if anchor is None or anchor.kind != SignatureKind.WORK_ORDER.value:
        raise NotFound(
            _("This link does not open a signed record. Check that it was copied whole.")
        )
    return anchor


async def check(session: AsyncSession, settings: Settings, raw: str) -> OrderCheck:
    """Every signed record of the token's order, recomputed from the database."""
    anchor = await work_order_signature(session, settings, raw)
    rows = (
        await session.scalars(
            select(Signature)
            .where(Signature.work_order_id == anchor.work_order_id)
            .order_by(Signature.signed_at, Signature.id)
        )
    ).all()
    rank = {kind.value: n for n, kind in enumerate(KIND_ORDER)}
    ordered = sorted(rows, key=lambda s: rank.get(s.kind, len(rank)))
    return OrderCheck(
        anchor, [await signatures.verify(session, s, settings.currency) for s in ordered]
    )


def pdf_url(settings: Settings, signature_id: int) -> str:
    """The customer's copy as a PDF, behind the same unguessable token."""
    return f"{url(settings, signature_id)}/pdf"


@dataclass(frozen=True)
class Link:
    url: str
    qr: Markup  # inline SVG of the same URL
    pdf_url: str = ""


def link(settings: Settings, signature_id: int) -> Link:
    """The link and QR code printed or shown on the customer's copy: the page it opens
    checks the record and offers the PDF."""
    target = url(settings, signature_id)
    return Link(
        target, qr.svg(target, _("QR code: check this record")), pdf_url(settings, signature_id)
    )
