"""Arrange helpers for estimate, signature, PDF and supplement tests."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import LabourOperation, Part, Role, Signature, Step, WorkOrder
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import fields as check_in_fields
from app.services.check_in import steps as check_ins
from app.services.check_in import symptoms, walkaround
from app.services.estimate import editing, pricing, terms
from app.services.signing import signatures
from app.settings import Settings
from tests.checkin_helpers import fresh, started_check_in


def advisor(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.ADVISOR], device_id="tablet-1", roles=frozenset({"advisor"}))


def manager(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.SERVICE_MANAGER], roles=frozenset({"service_manager"}))


async def completed_check_in(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """A check-in from today's first appointment taken through every step; the order's id."""
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    actor = advisor(users)
    check_in.contact_confirmed, check_in.follow_up_accepted = True, True
    await check_ins.finish_step(db, check_in, Step.GREETING, 1, actor)
    for kind in ("seat", "steering_wheel", "gear_lever", "floor_mat"):
        await check_ins.toggle_cover(db, check_in, kind, check_in.version, actor)
    await check_ins.finish_step(db, check_in, Step.COVERS, check_in.version, actor)
    await walkaround.add_mark(db, check_in, "0.3", "0.2", check_in.version, actor)
    last = check_in.work_order.vehicle.last_odometer_km or 0
    await check_in_fields.save(
        db, check_in, Step.WALKAROUND,
        {"odometer_km": str(last + 5000), "fuel_eighths": "4"},
        check_in.version, check_in.work_order.vehicle, actor,
    )  # fmt: skip
    await check_ins.finish_step(db, check_in, Step.WALKAROUND, check_in.version, actor)
    await check_in_fields.save(
        db, check_in, Step.SYMPTOMS, {"road_test_consent": "1"},
        check_in.version, check_in.work_order.vehicle, actor,
    )  # fmt: skip
    await symptoms.confirm_summary(db, check_in, check_in.version, actor)
    await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, actor)
    await db.commit()
    return check_in.work_order_id


async def order(db: AsyncSession, order_id: int) -> WorkOrder:
    await db.rollback()
    db.expire_all()
    found = await db.get(WorkOrder, order_id)
    assert found is not None
    return found


async def priced_estimate(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """A completed check-in with every concern priced (oil change labour and parts),
    a promised time and the consents answered; committed. The order's id."""
    order_id = await completed_check_in(db, settings, users)
    wo = await order(db, order_id)
    actor = advisor(users)
    await price_every_concern(db, settings, wo, actor)
    return order_id


async def price_every_concern(
    db: AsyncSession, settings: Settings, wo: WorkOrder, actor: Actor
) -> None:
    """Each concern's job priced with oil change labour and a filter, a promised time in
    five hours and the consents answered; committed."""
    await editing.start(db, wo, actor)
    await db.flush()
    today = utcnow().date()
    oil = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-OIL"))
    filt = await db.scalar(select(Part).where(Part.number == "P-OILF"))
    assert oil is not None
    assert filt is not None
    for job in await pricing.order_jobs(db, wo):
        await editing.add_line(db, wo, job.id, "labour", oil.id, None, wo.version, actor, today)
        await editing.add_line(db, wo, job.id, "part", filt.id, "1", wo.version, actor, today)
    promised = (utcnow() + timedelta(hours=5)).astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
    await terms.set_promised_at(db, wo, promised, settings.tz, wo.version, actor, utcnow())
    await terms.set_consent(db, wo, "consent_keep_old_parts", True, wo.version, actor)
    await terms.set_consent(db, wo, "consent_follow_up", True, wo.version, actor)
    await db.commit()


def ink(strokes: list[list[tuple[float, float]]] | None = None) -> tuple[str, str]:
    """signature_pad's toData() JSON and a PNG data URL, as the tablet posts them."""
    strokes = strokes or [
        [(20 + i * 6, 60 + (i % 5) * 8) for i in range(40)],
        [(60, 30), (80, 90), (100, 40), (140, 95)],
    ]
    data = [
        {"points": [{"x": x, "y": y, "time": 1000 + n * 16, "pressure": 0.5}
                    for n, (x, y) in enumerate(stroke)]}
        for stroke in strokes
    ]  # fmt: skip
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=(0, 0, 0, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return json.dumps(data), "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def signed_order(
    db: AsyncSession, settings: Settings, users: dict[Role, int], locale: str = "zh_CN"
) -> tuple[int, int]:
    """A priced estimate the customer signed; committed. (order id, signature id)."""
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    strokes, image = ink()
    signature = await signatures.sign_work_order(
        db, wo, signer_name=wo.customer.name, strokes_json=strokes, image_data_url=image,
        locale=locale, currency=settings.currency, version=wo.version,
        actor=advisor(users), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    return order_id, signature.id


async def signature(db: AsyncSession, signature_id: int) -> Signature:
    found = await db.get(Signature, signature_id)
    assert found is not None
    return found
