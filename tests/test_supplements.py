"""Added work: approved or refused by the customer, signed like the order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.models import (
    Job,
    LabourOperation,
    OutboundMessage,
    Role,
    Signature,
    Supplement,
    SupplementStatus,
)
from app.models.base import utcnow
from app.services.estimate import editing, pricing
from app.services.signing import signatures
from app.services.supplements import added_work as supplements
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import advisor, ink, order, signed_order


async def priced_supplement(db, settings, users) -> tuple[int, int]:
    order_id, _ = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    actor = advisor(users)
    supplement = await supplements.create(db, wo, "后刹车片磨损到极限", actor)
    job = await editing.add_job(db, wo, "更换后刹车片", None, actor, supplement=supplement)
    brake = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-BRKF"))
    await editing.add_line(
        db, wo, job.id, "labour", brake.id, None, None, actor, utcnow().date(),
        supplement=supplement,
    )  # fmt: skip
    await db.commit()
    return order_id, supplement.id


async def send_link(db, settings, users, supplement_id, now=None) -> str:
    supplement, wo = await supplements.get(db, supplement_id)
    token = await supplements.send(
        db, supplement, wo, "sms", settings, advisor(users), now or utcnow()
    )
    await db.commit()
    return token


async def test_a_link_sent_by_sms_lands_in_the_outbox_and_freezes_the_supplement(
    db, settings, users
) -> None:
    _order_id, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id)
    message = await db.scalar(select(OutboundMessage).where(OutboundMessage.channel == "sms"))
    assert f"/approve/{token}" in message.body
    supplement, wo = await supplements.get(db, supplement_id)
    assert supplement.status == SupplementStatus.PENDING
    assert supplement.token_hash != token  # only the hash is stored
    job = (await supplements.jobs(db, supplement))[0]
    with pytest.raises(Conflict):
        await editing.add_line(
            db, wo, job.id, "labour", job.lines[0].labour_operation_id, None, None,
            advisor(users), utcnow().date(), supplement=supplement,
        )  # fmt: skip


async def test_the_customer_approves_through_the_link_once(client, db, settings, users) -> None:
    _order_id, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id)
    page = await client.get(f"/approve/{token}")
    assert page.status_code == 200
    assert html(page).select_one("[data-testid=supplement-lines]") is not None
    csrf = html(page).select_one("input[name=_csrf_token]")
    headers = {"HX-Request": "true", "x-csrftoken": csrf["value"] if csrf else ""}
    if not csrf:
        headers["x-csrftoken"] = client.cookies.get("wa_csrf")
    strokes, image = ink()
    data = {"decision": "approve", "signer_name": "张三", "strokes": strokes, "image": image}
    done = await client.post(f"/approve/{token}", data=data, headers=headers)
    assert done.status_code == 200, done.text
    assert html(done).select_one("[data-testid=decided]")["data-decision"] == "approved"
    await db.rollback()
    supplement, wo = await supplements.get(db, supplement_id)
    assert supplement.status == SupplementStatus.APPROVED
    sig = await db.scalar(select(Signature).where(Signature.supplement_id == supplement_id))
    assert sig.decision == "approved"
    assert (await signatures.verify(db, sig, settings.currency)).intact
    totals = await pricing.order_totals(db, wo, with_supplements=True)
    assert totals.total > (await pricing.order_totals(db, wo)).total
    again = await client.post(f"/approve/{token}", data=data, headers=headers)
    assert again.status_code == 409
    assert await db.scalar(select(func.count(Signature.id))) == 2  # order + this approval


async def test_an_expired_or_tampered_link_is_refused_and_changes_nothing(
    client, db, settings, users
) -> None:
    _, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id, now=utcnow() - timedelta(days=2))
    expired = await client.get(f"/approve/{token}")
    assert expired.status_code == 410
    assert "过期" in expired.text or "expired" in expired.text
    tampered = await client.get(f"/approve/{token[:-2]}xx")
    assert tampered.status_code == 404
    await db.rollback()
    supplement, _ = await supplements.get(db, supplement_id)
    assert supplement.status == SupplementStatus.PENDING
    assert await db.scalar(select(func.count(Signature.id))) == 1


async def test_an_approval_that_is_declined_is_signed_too(db, settings, users) -> None:
    order_id, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id)
    supplement = await supplements.by_token(db, token, utcnow())
    supplement, wo = await supplements.get(db, supplement.id)
    strokes, image = ink()
    await supplements.decide(
        db, supplement, wo, approve=False, signer_name="张三", strokes_json=strokes,
        image_data_url=image, locale="zh_CN", currency="CNY", actor=advisor(users),
        now=utcnow(),
    )  # fmt: skip
    await db.commit()
    wo = await order(db, order_id)
    with_added = await pricing.order_totals(db, wo, with_supplements=True)
    assert with_added.total == (await pricing.order_totals(db, wo)).total
    jobs = (await db.scalars(select(Job).where(Job.supplement_id == supplement_id))).all()
    assert len(jobs) == 1


async def test_the_advisor_prices_added_work_over_http(client, db, settings, users) -> None:
    order_id, _ = await signed_order(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}")
    created = await client.post(
        f"/work-orders/{order_id}/supplements", data={"note": "发现", "_csrf_token": token}
    )
    assert created.status_code == 303
    supplement_id = int(created.headers["location"].rsplit("/", 1)[1])
    hx = {"HX-Request": "true", "x-csrftoken": token}
    added = await client.post(
        f"/supplements/{supplement_id}/add-job", data={"title": "更换雨刮片"}, headers=hx
    )
    assert added.status_code == 200
    refused = await client.post(
        f"/supplements/{supplement_id}/send", data={"channel": "sms"}, headers=hx
    )
    assert refused.status_code == 422  # a job with no lines
    await db.rollback()
    supplement = await db.get(Supplement, supplement_id)
    assert supplement.status == SupplementStatus.DRAFT
    assert await db.scalar(select(func.count(OutboundMessage.id))) == 0
