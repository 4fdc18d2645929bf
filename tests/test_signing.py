from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text, update

from app.errors import Conflict, InvalidInput
from app.models import (
    AuditEvent,
    Job,
    JobLine,
    Recommendation,
    Signature,
    WebhookEvent,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.estimate import editing, pricing
from app.services.signing import content as signed_content
from app.services.signing import signatures
from tests.estimate_helpers import advisor, ink, order, priced_estimate, signature, signed_order


async def test_signing_stores_the_ink_and_a_hash_of_the_canonical_record(
    db, settings, users
) -> None:
    order_id, signature_id = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    sig = await signature(db, signature_id)
    assert wo.status == WorkOrderStatus.SIGNED
    assert wo.signed_at is not None
    assert sig.image_png.startswith(b"\x89PNG")
    assert sig.device_id == "tablet-1"
    assert sig.signer_name == wo.customer.name
    content = json.loads(sig.content)
    assert signed_content.sha256_hex(sig.content.encode()) == sig.content_hash
    assert content["order"]["number"] == wo.number
    assert content["totals"]["total"] == str((await pricing.order_totals(db, wo)).total)
    assert content["check_in"]["read_back"][0].startswith("1.")
    assert content["consents"]["road_test"] is True
    # The status change is reported to the dealer system through the outbox.
    events = await db.scalars(select(WebhookEvent).where(WebhookEvent.work_order_id == wo.id))
    assert "signed" in [e.payload["data"]["to"] for e in events]
    audit = await db.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "work_order.signed")
    )
    assert audit == 1


async def test_verify_is_intact_until_a_row_is_altered_in_the_database(db, settings, users) -> None:
    order_id, signature_id = await signed_order(db, settings, users)
    result = await signatures.verify(db, await signature(db, signature_id), settings.currency)
    assert result.intact, result.differences
    line_id = await db.scalar(
        select(JobLine.id).join(Job).where(Job.work_order_id == order_id).order_by(JobLine.id)
    )
    # Bypass the ORM, as someone with database access would.
    await db.execute(text("UPDATE job_line SET unit_price = 1 WHERE id = :id"), {"id": line_id})
    await db.commit()
    db.expire_all()
    result = await signatures.verify(db, await signature(db, signature_id), settings.currency)
    assert not result.intact
    paths = [d.path for d in result.differences]
    assert "jobs[0].lines[0].unit_price" in paths
    assert "totals.total" in paths
    assert result.content_matches_hash
    assert result.seal_matches


async def test_the_database_refuses_to_change_or_delete_a_signature(db, settings, users) -> None:
    _, signature_id = await signed_order(db, settings, users)
    with pytest.raises(Exception, match="append-only"):
        await db.execute(update(Signature).values(signer_name="someone else"))
    await db.rollback()
    with pytest.raises(Exception, match="append-only"):
        await db.execute(text("DELETE FROM signature"))
    await db.rollback()
    assert (await signature(db, signature_id)).signer_name != "someone else"


async def test_signed_content_cannot_change_through_the_app(db, settings, users) -> None:
    order_id, _ = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    actor = advisor(users)
    jobs = await pricing.order_jobs(db, wo)
    line = jobs[0].lines[0]
    signed_quantity = line.quantity
    with pytest.raises(Conflict, match="签"):
        await editing.set_quantity(db, wo, line.id, "3", wo.version, actor)
    # Even code that skips the service's check is stopped at the flush.
    line.quantity = line.quantity + 1
    with pytest.raises(Conflict):
        await db.flush()
    await db.rollback()
    wo = await order(db, order_id)
    wo.discount_amount = wo.discount_amount + 10
    with pytest.raises(Conflict):
        await db.flush()
    await db.rollback()
    wo = await order(db, order_id)
    assert (await pricing.order_jobs(db, wo))[0].lines[0].quantity == signed_quantity


async def test_signing_twice_is_refused_and_changes_nothing(db, settings, users) -> None:
    order_id, _ = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    strokes, image = ink()
    with pytest.raises(Conflict):
        await signatures.sign_work_order(
            db, wo, signer_name="x", strokes_json=strokes, image_data_url=image,
            locale="zh_CN", currency="CNY", version=wo.version, actor=advisor(users),
            now=utcnow(),
        )  # fmt: skip
    await db.rollback()
    assert await db.scalar(select(func.count(Signature.id))) == 1


@pytest.mark.parametrize(
    ("strokes", "image", "message"),
    [
        ("[]", None, "请在框内签名"),
        (json.dumps([{"points": [{"x": 5, "y": 5, "time": 1}]}]), None, "太短"),
        ("not json", None, "无法读取"),
        (None, "data:image/png;base64,bm90IGEgcG5n", "损坏"),
    ],
)
async def test_an_empty_trivial_or_damaged_signature_is_refused(
    db, settings, users, strokes, image, message
) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    good_strokes, good_image = ink()
    with pytest.raises(InvalidInput, match=message):
        await signatures.sign_work_order(
            db, wo, signer_name="张三", strokes_json=strokes or good_strokes,
            image_data_url=image or good_image, locale="zh_CN", currency="CNY",
            version=wo.version, actor=advisor(users), now=utcnow(),
        )  # fmt: skip
    await db.rollback()
    wo = await order(db, order_id)
    assert wo.signed_at is None
    assert wo.status == WorkOrderStatus.ESTIMATE
    assert await db.scalar(select(func.count(Signature.id))) == 0


async def test_a_job_with_no_lines_blocks_signing(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    await editing.add_job(db, wo, "检查异响", wo.version, advisor(users))
    await db.commit()
    wo = await order(db, order_id)
    strokes, image = ink()
    with pytest.raises(InvalidInput, match="检查异响"):
        await signatures.sign_work_order(
            db, wo, signer_name="张三", strokes_json=strokes, image_data_url=image,
            locale="zh_CN", currency="CNY", version=wo.version, actor=advisor(users),
            now=utcnow(),
        )  # fmt: skip


async def test_declined_jobs_become_recommendations_for_the_next_visit(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    job = await editing.add_job(db, wo, "更换雨刮片", wo.version, advisor(users))
    await editing.set_job_flags(db, wo, job.id, wo.version, advisor(users), declined=True)
    await db.commit()
    wo = await order(db, order_id)
    strokes, image = ink()
    await signatures.sign_work_order(
        db, wo, signer_name="张三", strokes_json=strokes, image_data_url=image,
        locale="zh_CN", currency="CNY", version=wo.version, actor=advisor(users), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    texts = (await db.scalars(select(Recommendation.text).where(
        Recommendation.work_order_id == order_id))).all()  # fmt: skip
    assert texts == ["更换雨刮片"]
