"""Customer signatures: the ink is checked, the signed record hashed and sealed,
and any later verification recomputes the record from the database.

Signing owns the work order's record; every other kind of signed record (added
work, the delivery acceptance) is built by its own feature, which signs it with
`sign_content` and registers with `register_kind` how to rebuild it for a check."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _
from app.models import (
    Recommendation,
    Signature,
    SignatureKind,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, events, work_orders
from app.services.audit import Actor
from app.services.estimate import editing as estimate
from app.services.estimate import guards, pricing, ready
from app.services.records import get_or_404
from app.services.signing.content import (
    Difference,
    canonical_json,
    differences,
    iso,
    sha256_hex,
    work_order_content,
)
from app.services.signing.ink import Ink, check_ink


def seal(content_hash: str, ink: Ink, signer_name: str, signed_at: datetime, device_id: str) -> str:
    """Binds the ink, the signer, the time and the device to the signed record."""
    parts = [
        content_hash,
        sha256_hex(ink.png),
        sha256_hex(canonical_json({"strokes": ink.strokes})),
        signer_name,
        iso(signed_at) or "",
        device_id,
    ]
    return sha256_hex("\n".join(parts).encode("utf-8"))


def _signer(name: str | None) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise InvalidInput(_("Enter the name of the person signing."), field="signer_name")
    if len(clean) > 120:
        raise InvalidInput(_("The name is too long."), field="signer_name")
    return clean


def _record(
    order: WorkOrder,
    kind: SignatureKind,
    content: dict[str, Any],
    ink: Ink,
    signer_name: str,
    now: datetime,
    actor: Actor,
    locale: str,
    *,
    decision: str = "signed",
    supplement_id: int | None = None,
) -> Signature:
    body = canonical_json(content).decode("utf-8")
    content_hash = sha256_hex(body.encode("utf-8"))
    return Signature(
        work_order_id=order.id,
        supplement_id=supplement_id,
        kind=kind.value,
        decision=decision,
        signer_name=signer_name,
        signed_at=now,
        device_id=actor.device_id[:64],
        user_agent=actor.user_agent[:300],
        staff_id=actor.user_id,
        locale=locale,
        strokes=ink.strokes,
        image_png=ink.png,
        image_sha256=sha256_hex(ink.png),
        content=body,
        content_hash=content_hash,
        seal_hash=seal(content_hash, ink, signer_name, now, actor.device_id[:64]),
    )


async def work_order_signature(session: AsyncSession, order: WorkOrder) -> Signature | None:
    return await session.scalar(
        select(Signature).where(
            Signature.work_order_id == order.id,
            Signature.kind == SignatureKind.WORK_ORDER.value,
        )
    )


async def sign_work_order(
    session: AsyncSession,
    order: WorkOrder,
    *,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    locale: str,
    currency: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> Signature:
    if order.signed_at is not None or await work_order_signature(session, order):
        raise Conflict(_("This work order is already signed."))
    # Every precondition again, from the database: the tablet's page may be old.
    if not await guards.check_in_complete(session, order):
        raise Conflict(estimate.check_in_first())
    estimate.ensure_estimating(order, version)
    problems = await ready.readiness(session, order)
    if problems:
        raise InvalidInput(" ".join(problems))
    jobs = await pricing.order_jobs(session, order)
    if order.consent_keep_old_parts is None or order.consent_follow_up is None:
        raise InvalidInput(_("Answer each consent question before signing."), field="consents")
    name = _signer(signer_name)
    ink = check_ink(strokes_json, image_data_url)
    content = await work_order_content(session, order, locale, currency)
    signature = _record(order, SignatureKind.WORK_ORDER, content, ink, name, now, actor, locale)
    session.add(signature)
    order.signed_at = now
    work_orders.change_status(session, order, WorkOrderStatus.SIGNED, actor)
    for job in jobs:
        if job.declined_at is not None:
            # The next visit's greeting shows what the customer declined.
            session.add(
                Recommendation(
                    vehicle_id=order.vehicle_id,
                    work_order_id=order.id,
                    text=job.title,
                    declined_at=job.declined_at,
                )
            )
    await session.flush()
    # The workshop opens a task for each agreed job (a listener of its own).
    await events.publish(session, events.WorkOrderSigned(order, jobs, actor))
    audit.record(
        session, actor, "work_order.signed", "work_order", order.id,
        signature=signature.id, content_hash=signature.content_hash, signer=name,
    )  # fmt: skip
    return signature


def sign_content(
    session: AsyncSession,
    order: WorkOrder,
    kind: SignatureKind,
    content: dict[str, Any],
    *,
    signer_name: str | None,
    strokes_json: str | None,
    image_data_url: str | None,
    locale: str,
    actor: Actor,
    now: datetime,
    decision: str = "signed",
    supplement_id: int | None = None,
) -> Signature:
    """A signature over a record built by the caller (added work, the delivery acceptance)."""
    name = _signer(signer_name)
    ink = check_ink(strokes_json, image_data_url)
    signature = _record(
        order, kind, content, ink, name, now, actor, locale,
        decision=decision, supplement_id=supplement_id,
    )  # fmt: skip
    session.add(signature)
    return signature


# -- verification ----------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    signature: Signature
    content_matches_hash: bool  # the stored record is what was hashed
    seal_matches: bool  # ink, signer, time and device are what was sealed
    differences: list[Difference]  # the stored record against the database now

    @property
    def intact(self) -> bool:
        return self.content_matches_hash and self.seal_matches and not self.differences


# How to rebuild a kind of record from the database as it is now: (session, the
# signature, its order freshly loaded, currency) -> the record. Filled by
# `app.wiring.install()`; the work order's own is `rebuild_work_order`.
Rebuild = Callable[[AsyncSession, Signature, WorkOrder, str], Awaitable[dict[str, Any]]]
_rebuilders: dict[str, Rebuild] = {}


def register_kind(kind: SignatureKind, rebuild: Rebuild) -> None:
    _rebuilders[kind.value] = rebuild


async def rebuild_work_order(
    session: AsyncSession, signature: Signature, order: WorkOrder, currency: str
) -> dict[str, Any]:
    return await work_order_content(session, order, signature.locale, currency)


async def _current(session: AsyncSession, signature: Signature, currency: str) -> dict[str, Any]:
    # populate_existing: compare with the rows as stored now, not as this session last saw them.
    order = await get_or_404(
        session,
        WorkOrder,
        signature.work_order_id,
        _("That work order does not exist."),
        populate_existing=True,
    )
    rebuild = _rebuilders.get(signature.kind)
    if rebuild is None:
        raise events.NotWired(
            f"No rebuild registered for {signature.kind!r} signatures: "
            "app.wiring.install() registers them."
        )
    return await rebuild(session, signature, order, currency)


async def verify(session: AsyncSession, signature: Signature, currency: str) -> Verification:
    stored = json.loads(signature.content)
    content_ok = sha256_hex(signature.content.encode("utf-8")) == signature.content_hash
    ink = Ink(strokes=signature.strokes, png=signature.image_png)
    seal_ok = signature.seal_hash == seal(
        signature.content_hash, ink, signature.signer_name, signature.signed_at,
        signature.device_id,
    )  # fmt: skip
    now = await _current(session, signature, currency)
    return Verification(signature, content_ok, seal_ok, differences(stored, now))
