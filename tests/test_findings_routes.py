"""Findings over HTTP, as the tablets see them: the technician's tap on a category,
the count on the advisor's lane board and order, the advisor's withdrawal, the safety
sentence on the customer's decline screen, the next visit's greeting, and who may
attach a finding's photos."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import Photo, Role, Signature, StaffRole, StaffUser, Supplement, SupplementStatus
from app.models.base import utcnow
from app.services.check_in import steps as check_ins
from app.services.signing import signatures
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from tests.conftest import csrf_from, csrf_token, html, sign_in
from tests.estimate_helpers import advisor, ink, order
from tests.test_findings import BRAKES, reported, sent
from tests.workshop_helpers import dispatched, hx, jpeg, toast

pytestmark = pytest.mark.http_layer


def badge(page: Any, number: str) -> Any:
    return page.select_one(f"[data-testid=on-site-{number}] [data-testid=findings-badge]")


async def status_of(db: AsyncSession, supplement_id: int) -> str:
    await db.rollback()
    return str(await db.scalar(select(Supplement.status).where(Supplement.id == supplement_id)))


async def english(client: Any) -> None:
    token = await csrf_token(client)
    await client.post("/language", data={"locale": "en", "next": "/lane", "_csrf_token": token})


# -- the advisor sees it at once --------------------------------------------------------


async def test_the_lane_board_counts_the_unanswered_findings_on_the_cars_row(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    number = (await order(db, order_id)).number
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert page.select_one(f"[data-testid=on-site-{number}]") is not None
    assert badge(page, number) is None
    # The board listens to the workshop's events: a reported finding reloads it.
    assert page.select_one("[sse-connect^='/workshop/events']") is not None
    assert "sse:board" in page.select_one("#board")["hx-trigger"]

    await reported(db, users, order_id, priced=False)
    await reported(db, users, order_id, "机油渗漏", "engine", priced=False)
    found = badge(html(await client.get("/lane")), number)
    assert (found["data-count"], found["data-safety"]) == ("2", "1")
    assert found["href"] == f"/work-orders/{order_id}#findings"
    assert " ".join(found.text.split()) == "⚠ 2 项发现问题待答复 · 其中 1 项涉及安全"

    await english(client)
    found = badge(html(await client.get("/lane", headers={"HX-Request": "true"})), number)
    assert " ".join(found.text.split()) == "⚠ 2 findings unanswered · 1 safety"


async def test_the_work_order_shows_the_count_and_each_finding(client, db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    brakes = await reported(db, users, order_id)
    await sent(db, settings, users, brakes)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/work-orders/{order_id}"))
    count = page.select_one(".vehicle-bar [data-testid=findings-badge]")
    assert (count["data-count"], count["data-safety"], count["href"]) == ("1", "1", "#findings")
    item = page.select_one("#findings [data-testid=supplement-1]")
    assert item["data-status"] == SupplementStatus.PENDING.value
    assert BRAKES in item.text
    assert "制动" in item.text
    assert "等待客户答复" in item.text or _("Waiting for the customer") in item.text
    assert item.select_one("a.btn")["href"] == f"/supplements/{brakes}"


# -- the technician reports ------------------------------------------------------------


async def test_a_finding_is_reported_with_a_tap_on_what_it_concerns(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    chips = page.select(f"[data-testid^=finding-category-{order_id}-]")
    assert [c.select_one("input")["value"] for c in chips] == list(findings.CATEGORIES)
    safety = {c.select_one("input")["value"] for c in chips if "chip-safety" in c["class"]}
    assert safety == set(findings.SAFETY_CATEGORIES)
    assert "制动" in page.select_one(f"[data-testid=finding-category-{order_id}-brakes]").text

    token = csrf_from(page)
    url = f"/my-jobs/orders/{order_id}/findings"
    missing = await client.post(url, data={"note": BRAKES}, headers=hx(token))
    assert missing.status_code == 422
    assert toast(missing)["field"] == "category"
    assert await db.scalar(select(func.count(Supplement.id))) == 0

    done = await client.post(url, data={"note": BRAKES, "category": "brakes"}, headers=hx(token))
    assert done.status_code == 200, done.text
    await db.rollback()
    row = (await db.scalars(select(Supplement))).one()
    assert (row.category, row.safety) == ("brakes", True)
    shown = html(done).select_one(f"[data-testid=finding-{row.id}]")
    assert "安全" in shown.text


async def test_a_finding_is_reported_with_photos_and_the_safety_flag_in_one_post(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    form = page.select_one(f"[data-testid=findings-{order_id}] form")
    assert form["enctype"] == "multipart/form-data"
    assert form.select_one(f"[data-testid=finding-photos-{order_id}] ") is not None
    assert form.select_one("input[name=safety]") is not None
    url = f"/my-jobs/orders/{order_id}/findings"
    note = "后备箱撑杆失效，箱盖会落下"
    done = await client.post(
        url,
        data={"note": note, "category": "body", "safety": "1"},
        files=[
            ("photos", ("a.jpg", jpeg(1), "image/jpeg")),
            ("photos", ("b.jpg", jpeg(2), "image/jpeg")),
        ],
        headers=hx(csrf_from(page)),
    )
    assert done.status_code == 200, done.text
    await db.rollback()
    row = (await db.scalars(select(Supplement))).one()
    assert (row.category, row.safety) == ("body", True)
    shown = html(done).select_one(f"[data-testid=finding-{row.id}]")
    assert "安全" in shown.text
    assert len(shown.select("img[data-uploaded]")) == 2


async def test_a_refused_report_keeps_what_was_typed_and_marks_the_field(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    url = f"/my-jobs/orders/{order_id}/findings"
    # Without htmx: the page again, the note as typed, the photo field marked.
    response = await client.post(
        url,
        data={"note": BRAKES, "category": "brakes", "safety": "1", "_csrf_token": csrf_from(page)},
        files=[("photos", ("a.jpg", b"not a photo at all", "image/jpeg"))],
    )
    assert response.status_code == 422
    again = html(response).select_one(f"[data-testid=findings-{order_id}] form")
    assert again.select_one("textarea").text == BRAKES
    assert again.select_one("input[name=safety]").has_attr("checked")
    assert again.select_one("input[name=category][value=brakes]").has_attr("checked")
    assert again.select_one("input[name=photos]")["aria-invalid"] == "true"
    assert again.select_one(f"#error-photos-{order_id}").text.strip()
    assert await db.scalar(select(func.count(Supplement.id))) == 0


# -- the advisor withdraws ---------------------------------------------------------------


async def test_the_advisor_withdraws_a_finding_with_a_reason(client, db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id, priced=False)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/supplements/{supplement_id}"))
    assert page.select_one("[data-testid=withdraw-form] textarea[name=reason][required]")
    token = csrf_from(page)
    url = f"/supplements/{supplement_id}/withdraw"

    refused = await client.post(url, data={"reason": "  "}, headers=hx(token))
    assert refused.status_code == 422
    assert toast(refused)["field"] == "reason"
    assert toast(refused)["message"] == _("Say why the finding is withdrawn.")
    assert await status_of(db, supplement_id) == SupplementStatus.DRAFT.value

    done = await client.post(url, data={"reason": "与工单第1项重复"}, headers=hx(token))
    assert done.status_code == 200, done.text
    shown = html(done).select_one("[data-testid=withdrawn]")
    assert "与工单第1项重复" in shown.text
    assert await status_of(db, supplement_id) == SupplementStatus.WITHDRAWN.value
    assert html(done).select_one("[data-testid=send-tablet]") is None
    again = await client.post(
        f"/supplements/{supplement_id}/send", data={"channel": "tablet"}, headers=hx(token)
    )
    assert again.status_code == 409
    lane = html(await client.get("/lane"))
    assert lane.select("[data-testid=findings-badge]") == []


async def test_only_the_front_desk_withdraws_a_finding(client, db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id, priced=False)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(
        f"/supplements/{supplement_id}/withdraw", data={"reason": "不修了"}, headers=hx(token)
    )
    assert response.status_code == 403
    assert await status_of(db, supplement_id) == SupplementStatus.DRAFT.value


# -- the customer declines a safety finding -------------------------------------------


async def test_the_decline_screen_asks_the_customer_to_sign_the_safety_sentence(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    token = await sent(db, settings, users, supplement_id)
    page = html(await client.get(f"/approve/{token}"))
    sentence = "我已被告知该安全隐患（制动：左前刹车片磨损至 3mm）并拒绝维修。"
    assert "制动" in page.select_one("[data-testid=safety-banner]").text
    statement = page.select_one("[data-testid=safety-statement]")
    assert statement.select_one("label input[type=checkbox][name=acknowledge]") is not None
    assert statement.select_one("label span").text.strip() == sentence

    csrf = client.cookies.get("wa_csrf")
    field = page.select_one("input[name=_csrf_token]")
    headers = {"HX-Request": "true", "x-csrftoken": field["value"] if field else csrf}
    strokes, image = ink()
    form = {"decision": "decline", "signer_name": "张三", "strokes": strokes, "image": image}
    refused = await client.post(f"/approve/{token}", data=form, headers=headers)
    assert refused.status_code == 422
    assert toast(refused)["field"] == "acknowledge"
    assert await status_of(db, supplement_id) == SupplementStatus.PENDING.value
    assert await db.scalar(select(func.count(Signature.id))) == 1  # the work order's only

    done = await client.post(
        f"/approve/{token}", data={**form, "acknowledge": "1"}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert html(done).select_one("[data-testid=decided]")["data-decision"] == "declined"
    await db.rollback()
    signature = await db.scalar(select(Signature).where(Signature.supplement_id == supplement_id))
    assert json.loads(signature.content)["safety_statement"] == sentence
    assert (await signatures.verify(db, signature, settings.currency)).intact
    # The advisor's order keeps the declined finding and what the customer signed.
    await sign_in(client, Role.ADVISOR)
    item = html(await client.get(f"/work-orders/{order_id}")).select_one(
        "#findings [data-testid=supplement-1]"
    )
    assert item["data-status"] == SupplementStatus.DECLINED.value
    assert sentence in item.text


async def test_a_withdrawn_findings_link_tells_the_customer(client, db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    token = await sent(db, settings, users, supplement_id)
    supplement, _wo = await supplements.get(db, supplement_id)
    await findings.withdraw(db, supplement, "客户已在电话中拒绝", advisor(users), utcnow())
    await db.commit()
    page = await client.get(f"/approve/{token}")
    assert page.status_code == 409
    shown = html(page).select_one("[data-testid=link-error]")
    assert "已撤回" in shown.select_one("h1").text


async def test_a_declined_finding_is_shown_at_the_next_visits_greeting(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    await sent(db, settings, users, supplement_id)
    supplement, wo = await supplements.get(db, supplement_id)
    strokes, image = ink()
    await supplements.decide(
        db, supplement, wo, approve=False, signer_name="张三", strokes_json=strokes,
        image_data_url=image, locale="zh_CN", currency=settings.currency,
        actor=advisor(users), now=utcnow(), acknowledged=True,
    )  # fmt: skip
    await db.commit()
    # Another day, the same car: a new order for it.
    next_visit = await check_ins.start_walk_in(db, wo.vehicle_id, advisor(users))
    check_in_id = next_visit.id
    await db.commit()

    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/check-ins/{check_in_id}/greeting"))
    declined = page.select("[data-testid=declined] li")
    assert len(declined) == 1
    assert BRAKES in declined[0].text
    assert "安全" in declined[0].select_one(".badge-danger").text


# -- the delivery page -----------------------------------------------------------------


async def test_the_delivery_page_names_the_unanswered_finding_with_its_link(
    client, db, settings, users
) -> None:
    from tests.test_delivery import ready_to_sign

    order_id = await ready_to_sign(db, settings, users)
    supplement_id = await reported(db, users, order_id, priced=False)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/delivery/{order_id}"))
    problems = page.select_one("[data-testid=delivery-problems]")
    assert problems["data-count"] == "1"
    assert BRAKES in problems.select_one("[data-testid=delivery-problem]").text
    link = problems.select_one("[data-testid=unanswered-findings] a")
    assert link["href"] == f"/supplements/{supplement_id}"


# -- finding photos --------------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _upload(client: Any, supplement_id: int, token: str) -> Any:
    return await client.post(
        f"/supplements/{supplement_id}/photos",
        data={"client_id": uuid.uuid4().hex, "position": "", "damage_mark_id": ""},
        files={"file": ("finding.jpg", jpeg(3), "image/jpeg")},
        headers={"x-csrftoken": token},
    )


@pytest.fixture(name="second_technician")
async def fx_second_technician(session_maker, _password_hashes) -> None:  # type: ignore[no-untyped-def]
    """Another technician (password as the first one's), with no job on the car."""
    async with session_maker() as session:
        session.add(
            StaffUser(
                username="technician2", display_name="Technician Two",
                password_hash=_password_hashes[Role.TECHNICIAN], locale="zh_CN",
                role_rows=[StaffRole(role=Role.TECHNICIAN)],
            )
        )  # fmt: skip
        await session.commit()


@pytest.mark.usefixtures("second_technician")
async def test_only_a_technician_working_on_the_car_attaches_finding_photos(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id, priced=False)

    # A technician with no job on this car.
    page = html(await client.get("/sign-in"))
    await client.post(
        "/sign-in",
        data={"username": "technician2", "password": "pw-technician",
              "_csrf_token": csrf_from(page)},
    )  # fmt: skip
    other = await _upload(client, supplement_id, await csrf_token(client, "/my-jobs"))
    assert other.status_code == 403
    assert other.json()["error"] == _(
        "Only a technician working on this car adds photos to its findings."
    )
    # The advisor is not the one photographing the car in the workshop.
    client.cookies.clear()
    await sign_in(client, Role.ADVISOR)
    advisor_try = await _upload(client, supplement_id, await csrf_token(client))
    assert advisor_try.status_code == 403
    assert advisor_try.json()["error"]
    await db.rollback()
    assert (
        await db.scalar(select(func.count(Photo.id)).where(Photo.supplement_id.is_not(None))) == 0
    )
    assert _files(settings.photos) == []

    client.cookies.clear()
    await sign_in(client, Role.TECHNICIAN)
    mine = await _upload(client, supplement_id, await csrf_token(client, "/my-jobs"))
    assert mine.status_code == 201, mine.text
    await db.rollback()
    assert await db.scalar(select(Photo.supplement_id).where(Photo.id == mine.json()["id"])) == (
        supplement_id
    )
