"""The whole way from a signed order to a delivered car, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    FollowUpTask,
    Inspection,
    NewDamage,
    Role,
    Signature,
    TaskStatus,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.delivery import acceptance as delivery_signing
from app.services.delivery import handover as delivery
from app.services.final_check import inspection as final_check
from app.services.signing import signatures
from app.services.signing.guard import SignedRecordLocked
from app.services.workshop import board as workshop_board
from app.services.workshop import jobs as workshop
from tests.estimate_helpers import ink, order, signed_order
from tests.workshop_helpers import actor, check_in_of, in_qc, pass_final_check, tasks, work_done


async def test_signing_opens_one_task_per_agreed_job(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    found = await tasks(db, order_id)
    assert found
    assert {t.status for t in found} == {TaskStatus.WAITING.value}


async def test_signed_order_to_delivered_car_with_one_rework(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.QC
    first = await tasks(db, order_id)
    assert all(workshop.clocked_hours(t) >= 0 for t in first)
    assert all(t.entries and t.entries[0].finished_at for t in first)

    # QC fails one job for workmanship: back to the technician as rework.
    qc = actor(users, Role.QC_INSPECTOR)
    st = await final_check.state(db, order_id)
    redo = [st.tasks[0][1].id]
    await final_check.inspect(
        db, order_id, passed=False, ticked=[], odometer_km=None, fuel_eighths=None,
        reason_category="workmanship", note="Oil filter seal weeps", rework_job_ids=redo,
        actor=qc, now=utcnow(), version=wo.version,
    )  # fmt: skip
    await db.commit()
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.IN_PROGRESS
    assert wo.rework_count == 1
    again = [t for t in await tasks(db, order_id) if t.rework]
    assert [t.job_id for t in again] == redo
    assert again[0].status == TaskStatus.DISPATCHED.value
    assert again[0].self_checked_at is None

    await work_done(db, users, order_id)
    assert (await order(db, order_id)).status == WorkOrderStatus.QC
    await pass_final_check(db, users, order_id)
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.READY
    rounds = (
        await db.scalars(select(Inspection).where(Inspection.work_order_id == order_id))
    ).all()
    assert [(i.round, i.passed) for i in rounds] == [(1, False), (2, True)]
    rate = await workshop_first_time_fix(db)
    assert (rate.inspected, rate.passed_first_time) == (1, 0)

    # Delivery: details, then the customer signs; delivered and a follow-up is due.
    advisor = actor(users, Role.ADVISOR)
    await delivery.begin(db, order_id, advisor)
    st_before = await delivery.state(db, order_id)
    assert st_before.bill.matches
    today = utcnow().astimezone(settings.tz).date()
    await delivery.set_details(
        db, order_id, advice="Rotate tyres next time",
        next_service_on=(today + timedelta(days=180)).isoformat(),
        next_service_km=str((st_before.check_in.odometer_km or 0) + 10000),
        old_parts_shown=True, actor=advisor, today=today,
    )  # fmt: skip
    strokes, image = ink()
    now = utcnow()
    signature = await delivery_signing.sign(
        db, order_id, signer_name="王先生", strokes_json=strokes, image_data_url=image,
        locale="zh_CN", currency=settings.currency, actor=advisor, now=now, version=wo.version,
    )  # fmt: skip
    signature_id = signature.id
    await db.commit()
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.DELIVERED
    follow_up = await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id))
    assert follow_up is not None
    assert timedelta(0) < follow_up.due_at - now <= timedelta(days=3)
    stored = await db.get(Signature, signature_id)
    assert stored is not None
    assert stored.kind == "delivery"
    check = await signatures.verify(db, stored, settings.currency)
    assert check.intact, check.differences
    assert (await check_in_of(db, order_id)).odometer_km is not None


async def workshop_first_time_fix(db: AsyncSession) -> workshop_board.FirstTimeFix:
    now = utcnow()
    return await workshop_board.first_time_fix(db, now - timedelta(days=1), now + timedelta(days=1))


async def test_a_final_inspection_and_a_signed_delivery_never_change(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    await pass_final_check(db, users, order_id)
    inspection = await db.scalar(select(Inspection).where(Inspection.work_order_id == order_id))
    assert inspection is not None
    inspection.note = "rewritten later"
    with pytest.raises(SignedRecordLocked):
        await db.flush()
    await db.rollback()

    advisor = actor(users, Role.ADVISOR)
    await delivery.begin(db, order_id, advisor)
    today = utcnow().astimezone(settings.tz).date()
    st = await delivery.state(db, order_id)
    await delivery.set_details(
        db, order_id, advice="", next_service_on=(today + timedelta(days=90)).isoformat(),
        next_service_km=str((st.check_in.odometer_km or 0) + 5000), old_parts_shown=True,
        actor=advisor, today=today,
    )  # fmt: skip
    strokes, image = ink()
    await delivery_signing.sign(
        db, order_id, signer_name="王先生", strokes_json=strokes, image_data_url=image,
        locale="zh_CN", currency=settings.currency, actor=advisor, now=utcnow(),
    )  # fmt: skip
    await db.commit()
    record = await delivery.get_delivery(db, order_id)
    assert record is not None
    record.advice = "changed after signing"
    with pytest.raises(SignedRecordLocked):
        await db.flush()
    await db.rollback()
    db.add(NewDamage(work_order_id=order_id, position="front", note="added afterwards"))
    with pytest.raises(SignedRecordLocked):
        await db.flush()
    await db.rollback()
    assert (await delivery.get_delivery(db, order_id)).advice == ""  # type: ignore[union-attr]
