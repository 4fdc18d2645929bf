"""No step skipped: an order is estimated, handed to the customer and signed only
after its check-in is complete, and every precondition is checked again at the
moment of signing, from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.errors import Conflict, InvalidInput
from app.models import (
    AuditEvent,
    CheckIn,
    Job,
    Role,
    Signature,
    StepTiming,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.estimate import pricing, ready
from app.services.signing import signatures
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import advisor, completed_check_in, ink, order, priced_estimate


async def _state(db, order_id: int) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    wo = await order(db, order_id)
    jobs = await db.scalar(select(func.count(Job.id)).where(Job.work_order_id == order_id))
    signed = await db.scalar(
        select(func.count(Signature.id)).where(Signature.work_order_id == order_id)
    )
    audit = await db.scalar(select(func.count(AuditEvent.id)))
    return (wo.status, wo.version, wo.customer_mode_since, wo.signed_at, jobs, signed, audit)


async def test_opening_the_estimate_of_an_unfinished_check_in_moves_nothing(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    order_id = (await fresh(db, check_in_id)).work_order_id
    await sign_in(client, Role.ADVISOR)
    before = await _state(db, order_id)
    page = await client.get(f"/work-orders/{order_id}/estimate")
    assert page.status_code == 409
    shown = html(page)
    assert "请先与客户完成接车，再做维修费用预估。" in shown.get_text()
    assert shown.select_one("[data-testid=continue-check-in]")["href"] == (
        f"/check-ins/{check_in_id}"
    )
    assert await _state(db, order_id) == before
    assert (await order(db, order_id)).status == WorkOrderStatus.CHECK_IN


async def test_no_estimate_change_is_taken_before_the_check_in_is_complete(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    order_id = (await fresh(db, check_in_id)).work_order_id
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    before = await _state(db, order_id)
    for action, data in (
        ("start", {}),
        ("add-job", {"title": "检查空调"}),
        ("promised", {"promised_at": "2030-01-01T17:00"}),
    ):
        response = await client.post(
            f"/work-orders/{order_id}/estimate/{action}",
            data={**data, "version": "1"},
            headers={"HX-Request": "true", "x-csrftoken": token},
        )
        assert response.status_code == 409, (action, response.text)
        assert "请先与客户完成接车" in response.text
    assert await _state(db, order_id) == before


async def test_the_tablet_cannot_be_handed_over_for_an_unfinished_check_in(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    order_id = (await fresh(db, check_in_id)).work_order_id
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    before = await _state(db, order_id)
    response = await client.post(
        f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token}
    )
    assert response.status_code == 409
    assert await _state(db, order_id) == before
    # The tablet stays with the advisor: staff screens still answer.
    assert (await client.get("/lane")).status_code == 200


async def test_completing_the_check_in_opens_the_estimate_with_a_job_per_concern(
    db, settings, users
) -> None:
    order_id = await completed_check_in(db, settings, users)
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.ESTIMATE
    jobs = await pricing.order_jobs(db, wo)
    check_in = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order_id))
    assert [j.title for j in jobs] == [c.customer_words for c in check_in.concerns]
    assert wo.consent_road_test is True
    assert wo.consent_follow_up is True


async def test_signing_checks_the_check_in_again_from_the_database(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    # Whatever the tablet showed, the database is what counts at signing.
    await db.execute(
        update(CheckIn).where(CheckIn.work_order_id == order_id).values(completed_at=None)
    )
    await db.commit()
    wo = await order(db, order_id)
    before = await _state(db, order_id)
    strokes, image = ink()
    with pytest.raises(Conflict) as refused:
        await signatures.sign_work_order(
            db, wo, signer_name=wo.customer.name, strokes_json=strokes, image_data_url=image,
            locale="zh_CN", currency=settings.currency, version=wo.version,
            actor=advisor(users), now=utcnow(),
        )  # fmt: skip
    assert refused.value.message == "请先与客户完成接车，再做维修费用预估。"
    await db.rollback()
    assert await _state(db, order_id) == before


async def test_signing_an_order_back_in_check_in_is_refused(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    await db.execute(
        update(WorkOrder).where(WorkOrder.id == order_id).values(status=WorkOrderStatus.CHECK_IN)
    )
    await db.commit()
    wo = await order(db, order_id)
    strokes, image = ink()
    with pytest.raises(Conflict):
        await signatures.sign_work_order(
            db, wo, signer_name=wo.customer.name, strokes_json=strokes, image_data_url=image,
            locale="zh_CN", currency=settings.currency, version=wo.version,
            actor=advisor(users), now=utcnow(),
        )  # fmt: skip


async def test_handing_over_re_reads_what_is_still_missing(db, settings, users) -> None:
    order_id = await completed_check_in(db, settings, users)
    wo = await order(db, order_id)
    with pytest.raises(InvalidInput) as refused:
        await ready.hand_over(db, wo, advisor(users), utcnow())
    assert "请设定承诺交车时间。" in refused.value.message
    await db.rollback()
    assert (await order(db, order_id)).customer_mode_since is None


async def test_only_the_customer_signs_on_the_handed_over_tablet(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    before = await _state(db, order_id)
    wo = await order(db, order_id)
    strokes, image = ink()
    # The advisor's own tablet, never handed over: no signature is taken.
    response = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": wo.customer.name, "strokes": strokes, "image": image,
              "version": str(wo.version)},
        headers={"HX-Request": "true", "x-csrftoken": token},
    )  # fmt: skip
    assert response.status_code == 409
    assert await _state(db, order_id) == before


async def test_looking_at_a_step_records_no_time_saving_in_it_does(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)

    async def timings() -> set[str]:
        await db.rollback()
        rows = await db.scalars(
            select(StepTiming.step).where(StepTiming.check_in_id == check_in_id)
        )
        return set(rows)

    assert await timings() == {"greeting"}
    page = await client.get(f"/check-ins/{check_in_id}/walkaround")
    assert page.status_code == 200
    assert await timings() == {"greeting"}
    version = html(page).select_one("#version")["value"]
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")
    saved = await client.post(
        f"/check-ins/{check_in_id}/walkaround/save",
        data={"fuel_eighths": "5", "version": version},
        headers={"HX-Request": "true", "x-csrftoken": token},
    )
    assert saved.status_code == 200, saved.text
    assert await timings() == {"greeting", "walkaround"}
