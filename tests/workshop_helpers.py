"""Arrange helpers for the workshop, final check and delivery tests."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo_data
from app.errors import DomainError
from app.models import (
    Appointment,
    AuditEvent,
    CheckIn,
    Delivery,
    FollowUpTask,
    Inspection,
    JobTask,
    LabourOperation,
    NewDamage,
    Part,
    Photo,
    PromiseChange,
    Role,
    Signature,
    StaffRole,
    StaffUser,
    Step,
    Supplement,
    WorkOrder,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import fields as check_in_fields
from app.services.check_in import steps as check_ins
from app.services.check_in import symptoms, walkaround
from app.services.estimate import editing, pricing, terms
from app.services.final_check import inspection as final_check
from app.services.photos import receive as photo_service
from app.services.photos import receive as photos
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.services.supplements import added_work as supplements
from app.services.workshop import checklist
from app.services.workshop import jobs as workshop
from app.settings import Settings
from tests.checkin_helpers import fresh
from tests.estimate_helpers import advisor, ink, order, priced_estimate, signed_order


def actor(users: dict[Role, int], role: Role) -> Actor:
    return Actor(users[role], device_id=f"tablet-{role.value}", roles=frozenset({role.value}))


async def another_technician(db: AsyncSession, username: str = "tech2") -> Actor:
    user = StaffUser(
        username=username,
        display_name=username.title(),
        password_hash="x",
        role_rows=[StaffRole(role=Role.TECHNICIAN)],
    )
    db.add(user)
    await db.commit()
    return Actor(user.id, roles=frozenset({Role.TECHNICIAN.value}))


async def tasks(db: AsyncSession, order_id: int) -> list[JobTask]:
    await db.rollback()
    db.expire_all()
    return list(
        (
            await db.scalars(
                select(JobTask).where(JobTask.work_order_id == order_id).order_by(JobTask.id)
            )
        ).all()
    )


async def dispatched(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """A signed order with every job dispatched to the technician; committed."""
    order_id, _sig = await signed_order(db, settings, users)
    for task in await tasks(db, order_id):
        await workshop.dispatch(
            db, task.id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
        )
    await db.commit()
    return order_id


async def work_done(db: AsyncSession, users: dict[Role, int], order_id: int) -> None:
    """Every dispatched job started, finished and self-checked by the technician,
    and mutual-checked by the foreman; committed."""
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    for task in await tasks(db, order_id):
        await workshop.start(db, task.id, tech, utcnow())
        await workshop.finish(db, task.id, tech, utcnow())
        ticked = await every_item_ticked(db, task.id)
        await workshop.self_check(db, task.id, tech, utcnow(), form=ticked)
        await workshop.mutual_check(db, task.id, foreman, utcnow(), form=ticked)
    await db.commit()


async def every_item_ticked(db: AsyncSession, task_id: int) -> dict[str, str]:
    """The check form of the job with each item of its list ticked."""
    _task, job, wo = await workshop.get_task(db, task_id)
    return checklist.every_item_done(checklist.items_for(job, wo))


async def in_qc(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    order_id = await dispatched(db, settings, users)
    await work_done(db, users, order_id)
    return order_id


async def check_in_of(db: AsyncSession, order_id: int) -> CheckIn:
    found = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order_id))
    assert found is not None
    return found


async def pass_final_check(db: AsyncSession, users: dict[Role, int], order_id: int) -> None:
    wo: WorkOrder = await order(db, order_id)
    check_in = await check_in_of(db, order_id)
    st = await final_check.state(db, order_id)
    await final_check.inspect(
        db, order_id, passed=True, ticked=st.items,
        odometer_km=str((check_in.odometer_km or 0) + 3), fuel_eighths=str(check_in.fuel_eighths),
        reason_category=None, note=None, rework_job_ids=[],
        actor=actor(users, Role.QC_INSPECTOR), now=utcnow(), version=wo.version,
    )  # fmt: skip
    await db.commit()


async def ready(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """Through the workshop and a passed final check: ready for delivery."""
    order_id = await in_qc(db, settings, users)
    await pass_final_check(db, users, order_id)
    return order_id


# -- arrangements with choices (workshop, final check and delivery tests) ----------


def jpeg(seed: int = 0) -> bytes:
    """A small JPEG; a different seed gives different bytes (photos are content-addressed)."""
    image = Image.new("RGB", (64, 48), ((seed * 53) % 256, 90 + seed % 100, 160))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


async def add_photo(
    db: AsyncSession,
    settings: Settings,
    users: dict[Role, int],
    check_in: CheckIn,
    position: str,
    target: photos.Target | None = None,
    seed: int = 0,
) -> int:
    """A photo of a walkaround position received as the tablet sends it; not committed."""
    received = await photos.receive(
        db, check_in, client_id=f"test-{uuid.uuid4().hex[:20]}", position=position,
        damage_mark_id="", data=jpeg(seed), store=open_store(settings),
        actor=advisor(users), target=target,
    )  # fmt: skip
    return received.photo.id


async def checked_in_order(
    db: AsyncSession,
    settings: Settings,
    users: dict[Role, int],
    *,
    appointment: int = 0,
    road_test: bool = True,
    photo_positions: Sequence[str] = (),
) -> int:
    """As estimate_helpers.completed_check_in, from the nth of today's appointments,
    with a check-in photo of each given position; committed. The order's id."""
    await demo_data.load(db, settings.tz, on_site=False)
    ids = (await db.scalars(select(Appointment.id).order_by(Appointment.id))).all()
    started = await check_ins.start_from_appointment(db, ids[appointment], advisor(users))
    await db.commit()
    check_in = await fresh(db, started.id)
    actor = advisor(users)
    check_in.contact_confirmed, check_in.follow_up_accepted = True, True
    await check_ins.finish_step(db, check_in, Step.GREETING, check_in.version, actor)
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
    for n, position in enumerate(photo_positions):
        await add_photo(db, settings, users, check_in, position, seed=n)
    await check_ins.finish_step(db, check_in, Step.WALKAROUND, check_in.version, actor)
    await check_in_fields.save(
        db, check_in, Step.SYMPTOMS, {"road_test_consent": "1" if road_test else "0"},
        check_in.version, check_in.work_order.vehicle, actor,
    )  # fmt: skip
    await symptoms.confirm_summary(db, check_in, check_in.version, actor)
    await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, actor)
    await db.commit()
    return check_in.work_order_id


async def signed_order_with(
    db: AsyncSession,
    settings: Settings,
    users: dict[Role, int],
    *,
    appointment: int = 0,
    second_job: bool = False,
    promised_in: timedelta = timedelta(hours=5),
    road_test: bool = True,
    consent_road_test: bool | None = None,
    keep_old_parts: bool = True,
    follow_up: bool = True,
    photo_positions: Sequence[str] = (),
) -> int:
    """As estimate_helpers.signed_order, with choices: which appointment, a second
    job, the promised time, the consents and check-in photos; committed. The order's id."""
    order_id = await checked_in_order(
        db, settings, users, appointment=appointment, road_test=road_test,
        photo_positions=photo_positions,
    )  # fmt: skip
    wo = await order(db, order_id)
    actor = advisor(users)
    await editing.start(db, wo, actor)
    await db.flush()
    if second_job:
        await editing.add_job(db, wo, "空调有异味", None, actor)
    today = utcnow().date()
    oil = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-OIL"))
    filt = await db.scalar(select(Part).where(Part.number == "P-OILF"))
    assert oil is not None
    assert filt is not None
    for job in await pricing.order_jobs(db, wo):
        await editing.add_line(db, wo, job.id, "labour", oil.id, None, None, actor, today)
        await editing.add_line(db, wo, job.id, "part", filt.id, "1", None, actor, today)
    promised = (utcnow() + promised_in).astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
    await terms.set_promised_at(db, wo, promised, settings.tz, None, actor, utcnow())
    await terms.set_consent(db, wo, "consent_keep_old_parts", keep_old_parts, None, actor)
    await terms.set_consent(db, wo, "consent_follow_up", follow_up, None, actor)
    if consent_road_test is not None:
        await terms.set_consent(db, wo, "consent_road_test", consent_road_test, None, actor)
    strokes, image = ink()
    await signatures.sign_work_order(
        db, wo, signer_name=wo.customer.name, strokes_json=strokes, image_data_url=image,
        locale="zh_CN", currency=settings.currency, version=None, actor=actor, now=utcnow(),
    )  # fmt: skip
    await db.commit()
    return order_id


async def dispatch_all(db: AsyncSession, users: dict[Role, int], order_id: int) -> None:
    """Every waiting job of the order dispatched to the technician; committed."""
    for task in await tasks(db, order_id):
        if task.status == "waiting":
            await workshop.dispatch(
                db, task.id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
            )
    await db.commit()


async def ready_with(
    db: AsyncSession, settings: Settings, users: dict[Role, int], **choices: Any
) -> int:
    """signed_order_with(**choices), through the workshop and a passed final check."""
    order_id = await signed_order_with(db, settings, users, **choices)
    await dispatch_all(db, users, order_id)
    await work_done(db, users, order_id)
    await pass_final_check(db, users, order_id)
    return order_id


async def _count(db: AsyncSession, model: Any, *where: Any) -> int:
    return await db.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def snapshot(db: AsyncSession, order_id: int) -> dict[str, Any]:
    """What the database holds for an order (after a rollback): equal before and
    after a refused action shows that it changed nothing."""
    found = await tasks(db, order_id)  # rolls back first
    wo = await db.get(WorkOrder, order_id)
    assert wo is not None
    check_in = await check_in_of(db, order_id)
    delivery = await db.scalar(select(Delivery).where(Delivery.work_order_id == order_id))
    added = (await db.scalars(select(Supplement).where(Supplement.work_order_id == order_id))).all()
    return {
        "order": (wo.status, wo.version, wo.rework_count, wo.customer_waiting, wo.delivered_at),
        "tasks": [
            (
                t.id,
                t.status,
                t.technician_id,
                t.version,
                t.rework,
                t.self_checked_at,
                t.mutual_checked_at,
                t.mutual_checked_by_id,
                [(e.technician_id, e.started_at, e.finished_at) for e in t.entries],
            )
            for t in found
        ],
        "supplements": [(s.id, s.status) for s in added],
        "delivery": delivery
        and (
            delivery.advice,
            delivery.next_service_on,
            delivery.next_service_km,
            delivery.old_parts_shown,
            delivery.signature_id,
            delivery.delivered_at,
        ),
        "inspections": await _count(db, Inspection, Inspection.work_order_id == order_id),
        "promise_changes": await _count(db, PromiseChange, PromiseChange.work_order_id == order_id),
        "new_damage": await _count(db, NewDamage, NewDamage.work_order_id == order_id),
        "follow_ups": await _count(db, FollowUpTask, FollowUpTask.work_order_id == order_id),
        "signatures": await _count(db, Signature, Signature.work_order_id == order_id),
        "photos": await _count(db, Photo, Photo.check_in_id == check_in.id),
        "audit": await _count(db, AuditEvent),
    }


async def refused(
    db: AsyncSession,
    order_id: int,
    error: type[DomainError],
    call: Callable[[], Awaitable[object]],
    message: str | None = None,
    *,
    field: str | None = None,
) -> DomainError:
    """The call is refused with `error` and a clear message, and the order's
    records are as before (checked after rolling the session back)."""
    before = await snapshot(db, order_id)
    with pytest.raises(error) as caught:
        await call()
    found = caught.value
    assert found.message.strip(), "a refusal says why"
    if message is not None:
        assert found.message == message
    if field is not None:
        assert found.field == field
    assert await snapshot(db, order_id) == before
    return found


async def draft_supplement(db: AsyncSession, users: dict[Role, int], order_id: int) -> int:
    """Added work with a priced job, not yet sent to the customer; committed. Its id."""
    wo = await order(db, order_id)
    actor = advisor(users)
    supplement = await supplements.create(db, wo, "后刹车片磨损到极限", actor)
    job = await editing.add_job(db, wo, "更换后刹车片", None, actor, supplement=supplement)
    brake = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-BRKF"))
    assert brake is not None
    await editing.add_line(
        db, wo, job.id, "labour", brake.id, None, None, actor, utcnow().date(),
        supplement=supplement,
    )  # fmt: skip
    await db.commit()
    return supplement.id


async def decide_supplement(
    db: AsyncSession,
    settings: Settings,
    users: dict[Role, int],
    supplement_id: int,
    *,
    approve: bool = True,
) -> None:
    """The customer signs their answer to added work on the tablet; committed."""
    await db.rollback()
    db.expire_all()
    supplement, wo = await supplements.get(db, supplement_id)
    strokes, image = ink()
    await supplements.decide(
        db, supplement, wo, approve=approve, signer_name=wo.customer.name, strokes_json=strokes,
        image_data_url=image, locale="zh_CN", currency=settings.currency,
        actor=advisor(users), now=utcnow(),
    )  # fmt: skip
    await db.commit()


async def fail_final_check(
    db: AsyncSession, users: dict[Role, int], order_id: int, job_ids: list[int]
) -> None:
    """The QC inspector fails the car for workmanship, naming the jobs to redo; committed."""
    wo = await order(db, order_id)
    await final_check.inspect(
        db, order_id, passed=False, ticked=[], odometer_km=None, fuel_eighths=None,
        reason_category="workmanship", note="机滤密封圈渗油", rework_job_ids=job_ids,
        actor=actor(users, Role.QC_INSPECTOR), now=utcnow(), version=wo.version,
    )  # fmt: skip
    await db.commit()


# -- route-test arrangements ----------------------------------------------


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "x-csrftoken": token}


def toast(response: Any) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(response.headers["hx-trigger"])["wa:toast"]
    return detail


async def car_in_qc(
    db: AsyncSession,
    settings: Settings,
    users: dict[Role, int],
    *,
    photos: tuple[str, ...] = ("front",),
    belongings: tuple[tuple[str, int], ...] = (),
) -> int:
    """A car through the workshop and waiting for QC, whose check-in record has
    these photos and belongings (added before the customer signed: the record
    is locked after); committed."""
    order_id = await priced_estimate(db, settings, users)
    check_in = await check_in_of(db, order_id)
    for kind, count in belongings:
        await walkaround.add_belonging(db, check_in, kind, count, check_in.version, advisor(users))
        await db.commit()
        await db.refresh(check_in)
    for position in photos:
        await photo_service.receive(
            db, check_in, client_id=uuid.uuid4().hex, position=position, damage_mark_id="",
            data=jpeg(5), store=open_store(settings), actor=advisor(users),
        )  # fmt: skip
    await db.commit()
    wo = await order(db, order_id)
    strokes, image = ink()
    await signatures.sign_work_order(
        db, wo, signer_name=wo.customer.name, strokes_json=strokes, image_data_url=image,
        locale="zh_CN", currency=settings.currency, version=wo.version,
        actor=advisor(users), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    for task in await tasks(db, order_id):
        await workshop.dispatch(
            db, task.id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
        )
    await db.commit()
    await work_done(db, users, order_id)
    return order_id


async def ready_car(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    order_id = await car_in_qc(db, settings, users)
    await pass_final_check(db, users, order_id)
    return order_id
