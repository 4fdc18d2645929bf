"""Delivery (交车) over HTTP: the car against its check-in photos, new damage,
the bill, the details, and the customer's signed acceptance."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import (
    Delivery,
    FollowUpTask,
    LabourOperation,
    NewDamage,
    Photo,
    PhotoStage,
    Role,
    Signature,
    SignatureKind,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.delivery import handover as delivery
from app.services.estimate import editing
from app.services.photos import receive as photo_service
from app.services.storage.configured import open_store
from app.services.supplements import added_work as supplements
from app.settings import Settings
from tests.conftest import PASSWORDS, csrf_token, html, sign_in
from tests.estimate_helpers import advisor, ink, order
from tests.workshop_helpers import (
    actor,
    car_in_qc,
    check_in_of,
    hx,
    jpeg,
    ready_car,
    toast,
)

pytestmark = pytest.mark.http_layer


async def ready_to_sign(db: AsyncSession, settings: Settings, users: dict[Role, int]) -> int:
    """Delivery started, every position photographed again, the details recorded."""
    order_id = await ready_car(db, settings, users)
    advisor_ = actor(users, Role.ADVISOR)
    await delivery.begin(db, order_id, advisor_)
    check_in, target = await delivery.photo_target(db, order_id, advisor_)
    st = await delivery.state(db, order_id)
    for comparison in st.comparisons:
        await photo_service.receive(
            db, check_in, client_id=uuid.uuid4().hex, position=comparison.position,
            damage_mark_id="", data=jpeg(7), store=open_store(settings),
            actor=advisor_, target=target,
        )  # fmt: skip
    today = utcnow().astimezone(settings.tz).date()
    await delivery.set_details(
        db, order_id, advice="轮胎下次换位",
        next_service_on=(today + timedelta(days=180)).isoformat(),
        next_service_km=str((check_in.odometer_km or 0) + 5000), old_parts_shown=True,
        actor=advisor_, today=today,
    )  # fmt: skip
    await db.commit()
    assert (await delivery.state(db, order_id)).problems == []
    return order_id


async def upload(client: Any, order_id: int, token: str, **fields: str) -> Any:
    """A delivery photo as the tablet's outbox sends it."""
    return await client.post(
        f"/work-orders/{order_id}/delivery/photos",
        data={"client_id": uuid.uuid4().hex, **fields},
        files={"file": ("delivery.jpg", jpeg(9), "image/jpeg")},
        headers={"x-csrftoken": token},
    )


def sign_form(version: int, **overrides: str) -> dict[str, str]:
    strokes, image = ink()
    form = {"signer_name": "王先生", "strokes": strokes, "image": image, "version": str(version)}
    return {**form, **overrides}


async def hand_over(client: Any, order_id: int, token: str) -> Any:
    """The advisor hands the tablet to the customer for the acceptance (customer mode)."""
    return await client.post(f"/delivery/{order_id}/customer-mode", headers=hx(token))


async def customer_signs(client: Any, order_id: int, token: str, form: dict[str, str]) -> Any:
    """The customer signs the acceptance on the tablet in customer mode."""
    return await client.post(f"/review/{order_id}/delivery/sign", data=form, headers=hx(token))


async def unchanged(db: AsyncSession, order_id: int) -> None:
    """Nothing was delivered: still ready, no delivery signature, no follow-up."""
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.READY
    assert wo.delivered_at is None
    kinds = await db.scalars(select(Signature.kind).where(Signature.work_order_id == order_id))
    assert SignatureKind.DELIVERY.value not in set(kinds)
    follow_ups = select(func.count(FollowUpTask.id)).where(FollowUpTask.work_order_id == order_id)
    assert await db.scalar(follow_ups) == 0
    record = await delivery.get_delivery(db, order_id)
    assert record is None or record.signature_id is None


async def walk_the_car(client: Any, db: AsyncSession, order_id: int) -> str:
    """Start the delivery and photograph the front again, as the advisor's tablet
    does: the new photo appears beside the check-in one. The page's CSRF token."""
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/delivery/{order_id}"))
    assert page.select_one("[data-testid=delivery-begin]") is not None
    token = await csrf_token(client, f"/delivery/{order_id}")
    begun = await client.post(f"/delivery/{order_id}/begin", headers=hx(token))
    assert begun.headers["hx-redirect"] == f"/delivery/{order_id}"
    assert await delivery.get_delivery(db, order_id) is not None

    # The front photo from check-in, beside an empty slot for today's.
    page = html(await client.get(f"/delivery/{order_id}"))
    pair = page.select_one("[data-testid=compare-front]")
    assert pair is not None
    check_in_photo = await db.scalar(
        select(Photo).where(Photo.stage == PhotoStage.CHECK_IN.value, Photo.position == "front")
    )
    assert pair.select_one("[data-testid=check-in-photo] img")["src"] == (
        f"/photos/{check_in_photo.id}/thumb"
    )
    slot = pair.select_one("[data-testid=delivery-photo-front]")
    assert slot["data-upload-url"] == f"/work-orders/{order_id}/delivery/photos"
    assert slot.select_one("input[type=file][data-photo-input]") is not None
    assert pair.select_one("[data-testid=delivery-photo]") is None

    uploaded = await upload(client, order_id, token, position="front")
    assert uploaded.status_code == 201, uploaded.text
    photo_id = uploaded.json()["id"]
    pair = html(await client.get(f"/delivery/{order_id}")).select_one("[data-testid=compare-front]")
    assert pair["data-done"] == "true"
    assert pair.select_one("[data-testid=delivery-photo]")["src"] == f"/photos/{photo_id}/thumb"
    return token


async def customer_accepts_in_english(
    client: Any, db: AsyncSession, order_id: int, token: str
) -> None:
    """The advisor hands the tablet over; the customer sees then and now and the bill,
    reads in English, signs; the advisor takes the tablet back to the delivery."""
    # The advisor's screen has no signature pad: the tablet goes to the customer.
    page = html(await client.get(f"/delivery/{order_id}"))
    assert page.select_one("[data-testid=signature-pad]") is None
    handed = await hand_over(client, order_id, token)
    assert handed.status_code in (200, 201), handed.text
    assert handed.headers["hx-redirect"] == f"/review/{order_id}/delivery"
    # Locked to the customer's screens: the staff page answers with the review.
    locked = await client.get(f"/delivery/{order_id}", follow_redirects=False)
    assert locked.status_code in (302, 303, 403), locked.status_code
    shown = html(await client.get(f"/review/{order_id}/delivery"))
    assert shown.select_one("[data-testid=customer-delivery]") is not None
    assert shown.select_one("[data-testid=then-now-front] a[data-viewer]") is not None
    assert shown.select_one("[data-testid=bill-now]").get_text(strip=True)
    assert shown.select_one("form[action$='/delivery/sign'] [data-testid=signature-pad]")
    # The customer reads in English and signs.
    chose = await client.post(
        f"/review/{order_id}/language", data={"locale": "en"}, headers=hx(token)
    )
    assert chose.status_code in (200, 201), chose.text
    assert chose.headers["hx-redirect"] == f"/review/{order_id}"
    assert (await client.get(f"/review/{order_id}")).headers.get("location") in (
        None, f"/review/{order_id}/delivery",
    )  # fmt: skip
    version = (await order(db, order_id)).version
    signed = await customer_signs(client, order_id, token, sign_form(version))
    assert signed.status_code in (200, 201), signed.text
    assert signed.headers["hx-redirect"] == f"/review/{order_id}/delivery"
    thanks = html(await client.get(f"/review/{order_id}/delivery"))
    assert thanks.select_one("[data-testid=customer-delivered]") is not None
    assert thanks.select_one("[data-testid=verify-qr] svg") is not None
    # The advisor takes the tablet back and lands on the delivery.
    back = await client.post(
        "/customer-mode/exit", data={"password": PASSWORDS[Role.ADVISOR]}, headers=hx(token)
    )
    assert back.headers["hx-redirect"] == f"/delivery/{order_id}"


async def test_the_advisor_walks_the_car_and_the_customer_signs_it_out(
    client, db, settings, users
) -> None:
    order_id = await ready_car(db, settings, users)
    token = await walk_the_car(client, db, order_id)

    # Advice, the next service, the old parts shown: the problems list empties.
    check_in = await check_in_of(db, order_id)
    today = utcnow().astimezone(settings.tz).date()
    saved = await client.post(
        f"/delivery/{order_id}/details",
        data={"advice": "下次保养时检查刹车片", "next_service_on": str(today + timedelta(days=180)),
              "next_service_km": str((check_in.odometer_km or 0) + 5000), "old_parts_shown": "1"},
        headers=hx(token),
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    fragment = html(saved)
    assert fragment.select_one("[data-testid=details-saved]") is not None
    problems = fragment.select_one("#delivery-problems")
    assert problems["hx-swap-oob"] == "true"
    assert problems["data-count"] == "0"

    await customer_accepts_in_english(client, db, order_id, token)

    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.DELIVERED
    follow_up = await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id))
    assert follow_up is not None
    assert timedelta(0) < follow_up.due_at - utcnow() <= timedelta(days=3)
    signature = await db.scalar(
        select(Signature).where(
            Signature.work_order_id == order_id, Signature.kind == SignatureKind.DELIVERY.value
        )
    )
    assert signature is not None
    assert signature.locale == "en"

    done = html(await client.get(f"/delivery/{order_id}"))
    assert done.select_one("[data-testid=delivered]") is not None
    assert done.select_one("[data-testid=follow-up-due]").get_text(strip=True)
    assert done.select_one("[data-testid=verify-link]")["href"] == f"/verify/{signature.id}"
    assert done.select_one("[data-testid=content-hash]").get_text() == signature.content_hash
    verified = html(await client.get(f"/verify/{signature.id}"))
    assert verified.select_one("[data-testid=verify-result]")["data-intact"] == "true"


async def test_new_damage_is_recorded_escalated_and_photographed(
    client, db, settings, users
) -> None:
    order_id = await ready_car(db, settings, users)
    await delivery.begin(db, order_id, actor(users, Role.ADVISOR))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")

    vague = await client.post(
        f"/delivery/{order_id}/damage", data={"position": "rear", "note": " "}, headers=hx(token)
    )
    assert vague.status_code == 422
    assert toast(vague)["field"] == "note"
    assert toast(vague)["message"] == _("Describe the damage.")
    await db.rollback()
    assert await db.scalar(select(func.count(NewDamage.id))) == 0

    added = await client.post(
        f"/delivery/{order_id}/damage",
        data={"position": "rear", "note": "后保险杠划痕 5 cm"},
        headers=hx(token),
    )
    assert added.status_code == 200, added.text
    fragment = html(added)
    item = fragment.select_one("[data-testid=new-damage-item]")
    assert item.select_one("[data-testid=escalated]") is not None
    assert fragment.select_one("#delivery-problems")["hx-swap-oob"] == "true"
    await db.rollback()
    damage = await db.scalar(select(NewDamage).where(NewDamage.work_order_id == order_id))
    assert damage is not None
    assert damage.escalated_to_id == users[Role.SERVICE_MANAGER]
    damage_id = damage.id
    slot = item.select_one("[data-photo-slot]")
    assert slot["data-damage-mark"] == str(damage_id)

    uploaded = await upload(client, order_id, token, damage_mark_id=str(damage_id))
    assert uploaded.status_code == 201, uploaded.text
    await db.rollback()
    photo = await db.get(Photo, uploaded.json()["id"])
    assert photo.new_damage_id == damage_id
    assert photo.stage == PhotoStage.DELIVERY.value


async def test_a_car_that_has_not_passed_the_final_check_cannot_be_delivered(
    client, db, settings, users
) -> None:
    order_id = await car_in_qc(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/delivery/{order_id}"))
    assert page.select_one("[data-testid=delivery-begin]") is None
    assert page.select_one("[data-testid=delivery-not-ready]") is not None
    token = await csrf_token(client, f"/delivery/{order_id}")
    begun = await client.post(f"/delivery/{order_id}/begin", headers=hx(token))
    assert begun.status_code == 409
    assert toast(begun)["message"] == _("The car has not passed the final check.")
    handed = await hand_over(client, order_id, token)
    assert handed.status_code == 409
    assert toast(handed)["message"] == _("The car has not passed the final check.")
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.QC
    assert await db.scalar(select(func.count(Delivery.id))) == 0
    follow_ups = select(func.count(FollowUpTask.id)).where(FollowUpTask.work_order_id == order_id)
    assert await db.scalar(follow_ups) == 0


async def test_unapproved_added_work_blocks_the_signature(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    wo = await order(db, order_id)
    added = await supplements.create(db, wo, "后刹车片磨损", advisor(users))
    job = await editing.add_job(db, wo, "更换后刹车片", None, advisor(users), supplement=added)
    oil = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-OIL"))
    await editing.add_line(
        db, wo, job.id, "labour", oil.id, None, None, advisor(users), utcnow().date(),
        supplement=added,
    )  # fmt: skip
    supplement_id, number = added.id, added.number
    await db.commit()

    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/delivery/{order_id}"))
    blocked = page.select_one("[data-testid=unapproved-supplement]")
    assert blocked.select_one("a")["href"] == f"/supplements/{supplement_id}"
    assert page.select_one("[data-testid=delivery-bill]")["data-matches"] == "false"
    assert page.select_one("[data-testid=delivery-problems]")["data-count"] == "1"

    token = await csrf_token(client, f"/delivery/{order_id}")
    assert page.select_one("[data-testid=delivery-hand-over]") is None
    handed = await hand_over(client, order_id, token)
    assert handed.status_code == 422
    detail = toast(handed)
    assert detail["field"] == "delivery"
    assert f"#{number}" in detail["message"]
    await unchanged(db, order_id)


async def test_an_empty_signature_is_refused(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    assert (await hand_over(client, order_id, token)).status_code in (200, 201)
    version = (await order(db, order_id)).version
    signed = await customer_signs(
        client, order_id, token, sign_form(version, strokes="[]", image="")
    )
    assert signed.status_code == 422
    detail = toast(signed)
    assert (detail["field"], detail["message"]) == ("signature", _("Please sign in the box."))
    await unchanged(db, order_id)


async def test_a_stale_page_cannot_sign(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    assert (await hand_over(client, order_id, token)).status_code in (200, 201)
    version = (await order(db, order_id)).version
    signed = await customer_signs(client, order_id, token, sign_form(version - 1))
    assert signed.status_code == 409
    assert toast(signed)["reload"] is True
    await unchanged(db, order_id)


async def test_a_next_service_date_in_the_past_is_refused(client, db, settings, users) -> None:
    order_id = await ready_car(db, settings, users)
    await delivery.begin(db, order_id, actor(users, Role.ADVISOR))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    today = utcnow().astimezone(settings.tz).date()
    saved = await client.post(
        f"/delivery/{order_id}/details",
        data={"advice": "x", "next_service_on": str(today), "next_service_km": "999999"},
        headers=hx(token),
    )
    assert saved.status_code == 422
    assert toast(saved)["field"] == "next_service_on"
    await db.rollback()
    record = await delivery.get_delivery(db, order_id)
    assert record is not None
    await db.refresh(record)
    assert (record.advice, record.next_service_on, record.next_service_km) == ("", None, None)


async def test_staff_outside_the_front_desk_cannot_deliver(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    assert (await client.get(f"/delivery/{order_id}")).status_code == 403
    token = await csrf_token(client)
    handed = await hand_over(client, order_id, token)
    assert handed.status_code == 403
    assert toast(handed)["message"] == _("Your role does not give access to this screen.")
    version = (await order(db, order_id)).version
    signed = await customer_signs(client, order_id, token, sign_form(version))
    assert signed.status_code == 403
    await unchanged(db, order_id)


async def test_staff_cannot_sign_the_acceptance_without_handing_the_tablet_over(
    client, db, settings, users
) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    version = (await order(db, order_id)).version
    signed = await customer_signs(client, order_id, token, sign_form(version))
    assert signed.status_code == 409
    assert toast(signed)["message"] == _("Hand the tablet to the customer to sign.")
    await unchanged(db, order_id)


async def test_the_service_manager_may_deliver(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, f"/delivery/{order_id}")
    handed = await client.post(f"/delivery/{order_id}/customer-mode", data={"_csrf_token": token})
    assert handed.status_code == 303
    assert handed.headers["location"] == f"/review/{order_id}/delivery"
    version = (await order(db, order_id)).version
    signed = await client.post(
        f"/review/{order_id}/delivery/sign",
        data={**sign_form(version), "_csrf_token": token},
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"/review/{order_id}/delivery"
    assert (await order(db, order_id)).status == WorkOrderStatus.DELIVERED


async def test_a_refused_plain_details_form_comes_back_as_typed_with_the_date_marked(
    client, db, settings, users
) -> None:
    # Without htmx (a plain form post) the refusal used to be an error page: the advice,
    # the mileage and the old-parts tick were gone.
    order_id = await ready_car(db, settings, users)
    await delivery.begin(db, order_id, actor(users, Role.ADVISOR))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    typed = {"advice": "轮胎下次换位，注意刹车片", "next_service_on": "",
             "next_service_km": "95000", "old_parts_shown": "1"}  # fmt: skip
    refused = await client.post(
        f"/delivery/{order_id}/details", data={**typed, "_csrf_token": token}
    )
    assert refused.status_code == 422
    form = html(refused).select_one(f"form[action='/delivery/{order_id}/details']")
    assert form.select_one("[data-testid=delivery-advice]").get_text() == typed["advice"]
    assert form.select_one("[data-testid=next-service-km]")["value"] == "95000"
    assert form.select_one("input[name=old_parts_shown]").has_attr("checked")
    date = form.select_one("[data-testid=next-service-on]")
    assert date["aria-invalid"] == "true"
    assert date["aria-describedby"] == "error-next_service_on"
    assert form.select_one("#error-next_service_on").get_text() == _("Enter the next service date.")
    assert form.select_one("[data-testid=next-service-km]").get("aria-invalid") is None
    assert form.select_one("[data-testid=form-error]") is None  # shown at the field, once
    await db.rollback()
    record = await delivery.get_delivery(db, order_id)
    assert record is not None
    await db.refresh(record)
    assert (record.advice, record.next_service_on, record.next_service_km) == ("", None, None)
    assert record.old_parts_shown is False


async def test_a_refused_plain_damage_form_keeps_the_note_and_marks_the_position(
    client, db, settings, users
) -> None:
    order_id = await ready_car(db, settings, users)
    await delivery.begin(db, order_id, actor(users, Role.ADVISOR))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/delivery/{order_id}")
    refused = await client.post(
        f"/delivery/{order_id}/damage",
        data={"position": "", "note": "后保险杠划痕 5 cm", "_csrf_token": token},
    )
    assert refused.status_code == 422
    form = html(refused).select_one(f"form[action='/delivery/{order_id}/damage']")
    assert form.select_one("[data-testid=new-damage-note]")["value"] == "后保险杠划痕 5 cm"
    assert form.select_one("[data-testid=new-damage-position]")["aria-invalid"] == "true"
    assert form.select_one("#error-position").get_text() == _("Choose where on the car.")
    await db.rollback()
    assert await db.scalar(select(func.count(NewDamage.id))) == 0

    # The same form accepted without htmx still ends in a 303 back to the page.
    added = await client.post(
        f"/delivery/{order_id}/damage",
        data={"position": "rear", "note": "后保险杠划痕 5 cm", "_csrf_token": token},
    )
    assert added.status_code == 303
    await db.rollback()
    assert await db.scalar(select(func.count(NewDamage.id))) == 1
