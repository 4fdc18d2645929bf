"""Delivery (交车) through its services: what blocks the customer's signature,
the walkaround against the check-in photos, new damage, the signed record
that never changes, and the follow-up call."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.i18n import _
from app.models import (
    Delivery,
    FollowUpTask,
    Job,
    JobLine,
    NewDamage,
    Photo,
    PhotoStage,
    Role,
    Signature,
    SignatureKind,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.delivery import acceptance as delivery_signing
from app.services.delivery import handover as delivery
from app.services.estimate import pricing
from app.services.photos import receive as photos
from app.services.signing import signatures
from app.services.signing.guard import SignedRecordLocked
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from app.settings import Settings
from tests.estimate_helpers import advisor, ink, order
from tests.workshop_helpers import (
    actor,
    add_photo,
    check_in_of,
    decide_supplement,
    dispatch_all,
    draft_supplement,
    in_qc,
    ready_with,
    refused,
    signed_order_with,
    snapshot,
)

DELIVERED = "This car has been delivered; the delivery record cannot change."
SIGNED = (
    "This work order has been signed by the customer and cannot change. "
    "Added work goes on a supplement the customer approves."
)


Users = dict[Role, int]


def today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


async def begun(db: AsyncSession, settings: Settings, users: Users, **choices: Any) -> int:
    """Ready for delivery (signed_order_with choices) and the delivery started; committed."""
    order_id = await ready_with(db, settings, users, **choices)
    await delivery.begin(db, order_id, advisor(users))
    await db.commit()
    return order_id


async def todays_km(db: AsyncSession, order_id: int) -> int:
    """The odometer read at the passed final check."""
    inspection = (await delivery.state(db, order_id)).inspection
    assert inspection is not None
    assert inspection.odometer_km
    return inspection.odometer_km


def details(
    db: AsyncSession, settings: Settings, users: Users, order_id: int, km: int, **given: Any
) -> Awaitable[Delivery]:
    """The advisor's delivery details; `km` is today's reading."""
    fields: dict[str, Any] = {
        "advice": "下次保养时轮胎换位",
        "next_service_on": (today(settings) + timedelta(days=180)).isoformat(),
        "next_service_km": str(km + 5000),
        "old_parts_shown": True,
    } | given
    return delivery.set_details(db, order_id, **fields, actor=advisor(users), today=today(settings))


async def ready_to_sign(db: AsyncSession, settings: Settings, users: Users, **choices: Any) -> int:
    order_id = await begun(db, settings, users, **choices)
    await details(db, settings, users, order_id, await todays_km(db, order_id))
    await db.commit()
    return order_id


def sign(
    db: AsyncSession,
    settings: Settings,
    users: Users,
    order_id: int,
    *,
    who: Actor | None = None,
    now: datetime | None = None,
    version: int | None = None,
    **given: Any,
) -> Awaitable[Signature]:
    """The customer signs the delivery acceptance on the advisor's tablet."""
    strokes, image = ink()
    fields: dict[str, Any] = {"strokes_json": strokes, "image_data_url": image} | given
    return delivery_signing.sign(
        db, order_id, signer_name="王先生", **fields, locale="zh_CN",
        currency=settings.currency, actor=who or advisor(users), now=now or utcnow(),
        version=version,
    )  # fmt: skip


async def can_sign(db: AsyncSession, users: Users, order_id: int) -> Delivery:
    return delivery.ensure_can_sign(await delivery.state(db, order_id), advisor(users))


async def assert_not_delivered(
    db: AsyncSession, order_id: int, status: WorkOrderStatus = WorkOrderStatus.READY
) -> None:
    wo = await order(db, order_id)
    assert wo.status == status
    assert wo.delivered_at is None
    kinds = (
        await db.scalars(select(Signature.kind).where(Signature.work_order_id == order_id))
    ).all()
    assert SignatureKind.DELIVERY.value not in kinds
    assert (
        await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id)) is None
    )


async def refused_signing(
    db: AsyncSession,
    settings: Settings,
    users: Users,
    order_id: int,
    error: type[DomainError],
    message: str,
    status: WorkOrderStatus = WorkOrderStatus.READY,
) -> None:
    """Both the check and the signature refuse, with the same message; nothing changes."""
    await refused(db, order_id, error, lambda: can_sign(db, users, order_id), message)
    await refused(db, order_id, error, lambda: sign(db, settings, users, order_id), message)
    await assert_not_delivered(db, order_id, status)


# -- before the signature ---------------------------------------------------------------


async def test_delivery_begins_only_after_the_final_check(db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    await refused(
        db, order_id, Conflict, lambda: delivery.begin(db, order_id, advisor(users)),
        _("The car has not passed the final check."),
    )  # fmt: skip
    assert (await snapshot(db, order_id))["delivery"] is None


async def test_the_car_must_have_passed_the_final_check_to_sign(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    # Added work approved after the pass: the car goes back to the workshop.
    await decide_supplement(db, settings, users, await draft_supplement(db, users, order_id))
    assert (await order(db, order_id)).status == WorkOrderStatus.IN_PROGRESS
    await refused_signing(
        db, settings, users, order_id, Conflict, _("The car has not passed the final check."),
        status=WorkOrderStatus.IN_PROGRESS,
    )  # fmt: skip


async def test_added_work_the_customer_has_not_answered_blocks_signing(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    supplement_id = await draft_supplement(db, users, order_id)
    supplement, _wo = await supplements.get(db, supplement_id)
    waiting = _(
        "%(finding)s has no answer yet: the customer approves or declines it, "
        "or the advisor withdraws it with a reason.",
        finding=findings.label(supplement),
    )
    await refused_signing(db, settings, users, order_id, InvalidInput, waiting)  # a draft

    supplement, wo = await supplements.get(db, supplement_id)
    await supplements.send(db, supplement, wo, "tablet", settings, advisor(users), utcnow())
    await db.commit()
    await refused_signing(db, settings, users, order_id, InvalidInput, waiting)  # pending

    # Declined: nothing stands in the way any more.
    await decide_supplement(db, settings, users, supplement_id, approve=False)
    await sign(db, settings, users, order_id)
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.DELIVERED


async def test_a_bill_that_differs_from_what_was_signed_blocks_signing(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    line_id = await db.scalar(
        select(JobLine.id)
        .join(Job, Job.id == JobLine.job_id)
        .where(Job.work_order_id == order_id)
        .order_by(JobLine.id)
        .limit(1)
    )
    await db.execute(
        text("UPDATE job_line SET unit_price = unit_price + 1 WHERE id = :id"), {"id": line_id}
    )
    await db.commit()
    bill = (await delivery.state(db, order_id)).bill
    assert bill.current_total > bill.signed_total
    assert not bill.matches
    differs = _(
        "The bill (%(now)s) differs from what the customer signed (%(signed)s). "
        "It must be approved by the customer first.",
        now=bill.current_total, signed=bill.signed_total,
    )  # fmt: skip
    await refused_signing(db, settings, users, order_id, InvalidInput, differs)


async def test_the_next_service_and_the_old_parts_come_before_signing(db, settings, users) -> None:
    order_id = await begun(db, settings, users)  # the customer keeps the old parts
    show = _("Show the customer the replaced parts.")
    record = _("Record the next service date and mileage.")
    await refused_signing(db, settings, users, order_id, InvalidInput, f"{show} {record}")

    km = await todays_km(db, order_id)
    await details(db, settings, users, order_id, km, old_parts_shown=False)
    await db.commit()
    await refused_signing(db, settings, users, order_id, InvalidInput, show)

    await details(db, settings, users, order_id, km, old_parts_shown=True)
    await db.commit()
    assert (await delivery.state(db, order_id)).problems == []


async def test_without_old_parts_to_show_only_the_next_service_is_asked(
    db, settings, users
) -> None:
    order_id = await begun(db, settings, users, keep_old_parts=False)
    await refused_signing(
        db, settings, users, order_id, InvalidInput,
        _("Record the next service date and mileage."),
    )  # fmt: skip


async def test_an_empty_signature_is_refused(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    assert (await delivery.state(db, order_id)).problems == []
    for strokes, image in (("", ""), ("[]", ink()[1]), (None, None)):
        await refused(
            db, order_id, InvalidInput,
            lambda s=strokes, i=image: sign(db, settings, users, order_id, strokes_json=s,
                                            image_data_url=i),
            _("Please sign in the box."), field="signature",
        )  # fmt: skip
    await refused(
        db, order_id, InvalidInput,
        lambda: sign(db, settings, users, order_id, image_data_url=""),
        _("The signature image is missing. Please sign again."), field="signature",
    )  # fmt: skip
    await assert_not_delivered(db, order_id)


async def test_only_the_advisor_signs_the_car_out_of_the_latest_order(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await refused(
        db, order_id, Forbidden,
        lambda: sign(db, settings, users, order_id, who=actor(users, Role.TECHNICIAN)),
        _("The service advisor delivers the car."),
    )  # fmt: skip
    stale = (await order(db, order_id)).version - 1
    await refused(
        db, order_id, Conflict, lambda: sign(db, settings, users, order_id, version=stale),
        _("Someone else changed this work order. Reload to see the latest."),
    )  # fmt: skip
    await assert_not_delivered(db, order_id)


async def test_the_next_service_lies_ahead(db, settings, users) -> None:
    order_id = await begun(db, settings, users)
    km = await todays_km(db, order_id)
    day = today(settings)
    future = _("The next service date must be in the future.")
    cases = [
        ({"next_service_on": (day - timedelta(days=1)).isoformat()}, future, "next_service_on"),
        ({"next_service_on": day.isoformat()}, future, "next_service_on"),
        ({"next_service_on": ""}, _("Enter the next service date."), "next_service_on"),
        ({"next_service_km": str(km - 100)},
         _("The next service mileage must be above today's %(km)s km.", km=km), "next_service_km"),
        ({"next_service_km": str(km)},
         _("The next service mileage must be above today's %(km)s km.", km=km), "next_service_km"),
        ({"next_service_km": "soon"}, _("Enter the next service mileage in km."),
         "next_service_km"),
    ]  # fmt: skip
    for given, message, field in cases:
        await refused(
            db, order_id, InvalidInput,
            lambda given=given: details(db, settings, users, order_id, km, **given),
            message, field=field,
        )  # fmt: skip
    await details(db, settings, users, order_id, km)
    await db.commit()
    st = await delivery.state(db, order_id)
    assert st.delivery is not None
    assert st.delivery.next_service_km == km + 5000


async def test_new_damage_is_escalated_to_the_service_manager(db, settings, users) -> None:
    order_id = await begun(db, settings, users)
    where = _("Choose where on the car.")
    for position in ("roof", "", None):
        await refused(
            db, order_id, InvalidInput,
            lambda p=position: delivery.record_new_damage(db, order_id, p, "新划痕",
                                                          advisor(users)),
            where, field="position",
        )  # fmt: skip
    for note in ("", "   ", None):
        await refused(
            db, order_id, InvalidInput,
            lambda n=note: delivery.record_new_damage(db, order_id, "rear_left", n,
                                                      advisor(users)),
            _("Describe the damage."), field="note",
        )  # fmt: skip
    damage = await delivery.record_new_damage(
        db, order_id, "rear_left", " 左后门\n新划痕 ", advisor(users)
    )
    damage_id = damage.id
    await db.commit()
    await db.rollback()
    found = await db.get(NewDamage, damage_id)
    assert found is not None
    assert (found.position, found.note) == ("rear_left", "左后门 新划痕")
    assert found.recorded_by_id == users[Role.ADVISOR]
    assert found.escalated_to_id == users[Role.SERVICE_MANAGER]


# -- the walkaround against check-in --------------------------------------------------


async def test_a_delivery_photo_is_shown_beside_the_check_in_photo(db, settings, users) -> None:
    order_id = await begun(db, settings, users, photo_positions=("front",))
    st = await delivery.state(db, order_id)
    [comparison] = st.comparisons
    assert comparison.position == "front"
    assert comparison.check_in.stage == PhotoStage.CHECK_IN.value
    assert comparison.delivery is None
    check_in_photo = comparison.check_in.id

    check_in, target = await delivery.photo_target(db, order_id, advisor(users))
    photo_id = await add_photo(db, settings, users, check_in, "front", target, seed=7)
    await db.commit()
    [comparison] = (await delivery.state(db, order_id)).comparisons
    assert comparison.check_in.id == check_in_photo
    assert comparison.delivery is not None
    assert comparison.delivery.id == photo_id
    assert comparison.delivery.stage == PhotoStage.DELIVERY.value


async def test_a_missing_delivery_photo_blocks_signing(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users, photo_positions=("front", "rear"))
    assert [c.position for c in (await delivery.state(db, order_id)).comparisons] == [
        "front", "rear",
    ]  # fmt: skip
    both = _("Take the delivery photo of: %(positions)s.", positions=f"{_('Front')}、{_('Rear')}")
    await refused_signing(db, settings, users, order_id, InvalidInput, both)

    check_in, target = await delivery.photo_target(db, order_id, advisor(users))
    await add_photo(db, settings, users, check_in, "front", target, seed=11)
    await db.commit()
    rear = _("Take the delivery photo of: %(positions)s.", positions=_("Rear"))
    await refused_signing(db, settings, users, order_id, InvalidInput, rear)

    check_in, target = await delivery.photo_target(db, order_id, advisor(users))
    await add_photo(db, settings, users, check_in, "rear", target, seed=12)
    await db.commit()
    signature = await sign(db, settings, users, order_id)
    await db.commit()
    assert signature.kind == SignatureKind.DELIVERY.value
    assert [c["position"] for c in signatures_content(signature)["comparison"]] == [
        "front", "rear",
    ]  # fmt: skip


def signatures_content(signature: Signature) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(signature.content)
    return content


# -- after the signature --------------------------------------------------------------


async def test_a_signed_delivery_never_changes(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users, photo_positions=("front",))
    check_in, target = await delivery.photo_target(db, order_id, advisor(users))
    await add_photo(db, settings, users, check_in, "front", target, seed=3)
    await db.commit()
    signature_id = (await sign(db, settings, users, order_id)).id
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.DELIVERED
    km = await todays_km(db, order_id)

    delivered = _(DELIVERED)
    calls = (
        lambda: delivery.record_new_damage(db, order_id, "front", "新划痕", advisor(users)),
        lambda: details(db, settings, users, order_id, km, advice="改了"),
        lambda: delivery.photo_target(db, order_id, advisor(users)),
    )
    for call in calls:
        await refused(db, order_id, Conflict, call, delivered)
    # Not even a delivery photo sent straight to the photo service.
    check_in = await check_in_of(db, order_id)
    await refused(
        db, order_id, Conflict,
        lambda: add_photo(db, settings, users, check_in, "front",
                          photos.Target(stage=PhotoStage.DELIVERY), seed=4),
    )  # fmt: skip

    stored = await db.get(Signature, signature_id)
    assert stored is not None
    check = await signatures.verify(db, stored, settings.currency)
    assert check.intact, check.differences

    await db.execute(
        text("UPDATE delivery SET advice = 'x' WHERE work_order_id = :id"), {"id": order_id}
    )
    await db.commit()
    await db.rollback()
    db.expire_all()
    stored = await db.get(Signature, signature_id)
    assert stored is not None
    check = await signatures.verify(db, stored, settings.currency)
    assert not check.intact
    assert [(d.path, d.signed, d.now) for d in check.differences] == [
        ("advice", "下次保养时轮胎换位", "x")
    ]


async def test_the_follow_up_call_is_due_within_the_dealerships_days(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    shop = await pricing.dealership(db)
    shop.follow_up_days = 2
    await db.commit()
    now = utcnow()
    await sign(db, settings, users, order_id, now=now)
    await db.commit()
    await db.rollback()
    wo = await order(db, order_id)
    assert wo.delivered_at == now
    check_in = await check_in_of(db, order_id)
    task = await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id))
    assert task is not None
    assert task.due_at == now + timedelta(days=2)
    assert task.call_allowed is True
    assert task.status == "open"
    assert task.phone
    assert task.phone == (check_in.follow_up_phone or wo.customer.phone)


async def test_no_follow_up_call_when_the_customer_declined_it_at_signing(
    db, settings, users
) -> None:
    order_id = await ready_to_sign(db, settings, users, follow_up=False)
    assert (await order(db, order_id)).consent_follow_up is False
    await sign(db, settings, users, order_id)
    await db.commit()
    await db.rollback()
    task = await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id))
    assert task is not None
    assert task.call_allowed is False


# -- the signed check-in record ----------------------------------------------------------


async def test_after_signing_only_workshop_and_delivery_photos_are_added(
    db, settings, users
) -> None:
    order_id = await signed_order_with(db, settings, users, photo_positions=("front",))
    check_in = await check_in_of(db, order_id)
    found = await refused(
        db, order_id, Conflict, lambda: add_photo(db, settings, users, check_in, "front"), _(SIGNED)
    )
    assert isinstance(found, SignedRecordLocked)

    supplement_id = await draft_supplement(db, users, order_id)
    await dispatch_all(db, users, order_id)
    check_in, finding = await findings.photo_target(
        db, supplement_id, actor(users, Role.TECHNICIAN)
    )
    await add_photo(db, settings, users, check_in, "extra", finding, seed=1)
    check_in = await check_in_of(db, order_id)
    delivery_stage = photos.Target(stage=PhotoStage.DELIVERY)
    await add_photo(db, settings, users, check_in, "front", delivery_stage, seed=2)
    await db.commit()
    await db.rollback()
    stages = (
        await db.scalars(
            select(Photo.stage).where(Photo.check_in_id == check_in.id).order_by(Photo.id)
        )
    ).all()
    assert stages == [
        PhotoStage.CHECK_IN.value,
        PhotoStage.FINDING.value,
        PhotoStage.DELIVERY.value,
    ]
