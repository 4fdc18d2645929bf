"""Customer signatures: the ink is checked, the signed record hashed and sealed,
and any later verification recomputes the record from the database."""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import _
from app.models import (
    Recommendation,
    Signature,
    SignatureKind,
    Supplement,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, work_orders
from app.services.audit import Actor
from app.services.estimate import guards, pricing, ready
from app.services.signing.content import (
    Difference,
    canonical_json,
    differences,
    iso,
    sha256_hex,
    supplement_content,
    work_order_content,
)
from app.services.workshop import tasks as job_tasks

MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGE_SIDE = 4096
MAX_POINTS = 20_000
# signature_pad's strokes: a list of strokes, each with a list of points (4 levels).
MAX_NESTING = 6
MAX_STROKES_CHARS = MAX_POINTS * 120
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
# Below these (in CSS pixels of the pad) a mark is a dot or a slip, not a signature.
MIN_INK_LENGTH = 120
MIN_INK_EXTENT = 60


@dataclass(frozen=True)
class Ink:
    strokes: list[list[list[float]]]  # strokes of [x, y, t] points
    png: bytes


def _points(strokes: Any) -> list[list[list[float]]]:
    if not isinstance(strokes, list) or len(strokes) > 500:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        )
    out = []
    total = 0
    for stroke in strokes:
        points = stroke.get("points") if isinstance(stroke, dict) else None
        if not isinstance(points, list):
            raise InvalidInput(_("The signature could not be read. Please sign again."))
        clean = []
        for point in points:
            try:
                x, y = float(point["x"]), float(point["y"])
                t = float(point.get("time", 0))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(
                    _("The signature could not be read. Please sign again.")
                ) from None
            if not all(math.isfinite(v) for v in (x, y, t)):
                raise InvalidInput(_("The signature could not be read. Please sign again."))
            clean.append([round(x, 1), round(y, 1), round(t)])
        total += len(clean)
        if clean:
            out.append(clean)
    if total > MAX_POINTS:
        raise InvalidInput(_("The signature is too large. Please sign again."))
    return out


def _nesting(text: str) -> int:
    """How deep the JSON's lists and objects go, brackets inside strings aside."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def check_ink(strokes_json: str | None, image_data_url: str | None) -> Ink:
    """Refuse an empty or trivial signature, and anything that is not one."""
    text = strokes_json or "[]"
    # Measured before parsing: json.loads recurses once per level and a few
    # thousand levels end in RecursionError (a 500), not in a message.
    if len(text) > MAX_STROKES_CHARS or _nesting(text) > MAX_NESTING:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        )
    try:
        strokes = _points(json.loads(text))
    except json.JSONDecodeError:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        ) from None
    if not strokes:
        raise InvalidInput(_("Please sign in the box."), field="signature")
    points = [p for s in strokes for p in s]
    length = sum(math.dist(a[:2], b[:2]) for s in strokes for a, b in itertools.pairwise(s))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    extent = max(max(xs) - min(xs), max(ys) - min(ys))
    if length < MIN_INK_LENGTH or extent < MIN_INK_EXTENT:
        raise InvalidInput(
            _("That is too short to be a signature. Please sign your name."), field="signature"
        )
    prefix = "data:image/png;base64,"
    if not image_data_url or not image_data_url.startswith(prefix):
        raise InvalidInput(
            _("The signature image is missing. Please sign again."), field="signature"
        )
    try:
        png = base64.b64decode(image_data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("The signature image is damaged. Please sign again.")) from None
    if len(png) > MAX_IMAGE_BYTES:
        raise InvalidInput(_("The signature image is too large. Please sign again."))
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG" or max(image.size) > MAX_IMAGE_SIDE:
                raise InvalidInput(_("The signature image is damaged. Please sign again."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidInput(_("The signature image is damaged. Please sign again.")) from None
    return Ink(strokes=strokes, png=png)


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
    supplement: Supplement | None = None,
) -> Signature:
    body = canonical_json(content).decode("utf-8")
    content_hash = sha256_hex(body.encode("utf-8"))
    return Signature(
        work_order_id=order.id,
        supplement_id=supplement.id if supplement else None,
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
        raise Conflict(guards.check_in_first())
    guards.ensure_estimating(order, version)
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
    job_tasks.open_tasks(session, order, jobs, actor)
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
) -> Signature:
    """A signature over a record built by the caller (the delivery acceptance)."""
    name = _signer(signer_name)
    ink = check_ink(strokes_json, image_data_url)
    signature = _record(order, kind, content, ink, name, now, actor, locale)
    session.add(signature)
    return signature


async def sign_supplement(
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
    original = await work_order_signature(session, order)
    if original is None:
        raise Conflict(_("The work order must be signed before added work."))
    name = _signer(signer_name)
    ink = check_ink(strokes_json, image_data_url)
    content = await supplement_content(
        session, order, supplement, decision, locale, currency, original.content_hash
    )
    signature = _record(
        order, SignatureKind.SUPPLEMENT, content, ink, name, now, actor, locale,
        decision=decision, supplement=supplement,
    )  # fmt: skip
    session.add(signature)
    await session.flush()
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


async def _current(session: AsyncSession, signature: Signature, currency: str) -> dict[str, Any]:
    order = await session.get(WorkOrder, signature.work_order_id, populate_existing=True)
    if order is None:
        raise NotFound(_("That work order does not exist."))
    if signature.kind == SignatureKind.WORK_ORDER.value:
        return await work_order_content(session, order, signature.locale, currency)
    if signature.kind == SignatureKind.SUPPLEMENT.value and signature.supplement_id:
        supplement = await session.get(Supplement, signature.supplement_id)
        original = await work_order_signature(session, order)
        if supplement is None or original is None:
            return {}
        return await supplement_content(
            session, order, supplement, signature.decision, signature.locale, currency,
            original.content_hash,
        )  # fmt: skip
    if signature.kind == SignatureKind.DELIVERY.value:
        # Imported here: the delivery record is built on top of this module.
        from app.services.delivery import acceptance as delivery_signing

        return await delivery_signing.current(session, signature, currency)
    return {}


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
