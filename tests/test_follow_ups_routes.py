"""Follow-up calls over HTTP: who may open the queue, the badge, the call form that
keeps what was typed when refused, the flag beside an answer, and the complaint button."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Dealership, FollowUpAttempt, FollowUpTask, Role
from app.models.base import utcnow
from tests.conftest import csrf_from, html, sign_in
from tests.test_follow_ups import delivered

pytestmark = pytest.mark.http_layer


def call_form(token: str, version: int, **given: Any) -> dict[str, Any]:
    return {
        "_csrf_token": token, "version": str(version), "outcome": "reached",
        "spoke_with": "user", "satisfaction": "4",
    } | given  # fmt: skip


async def test_only_relations_and_the_manager_open_the_queue(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/follow-ups")).status_code == 403
    assert (await client.get("/follow-ups/badge")).status_code == 403


async def test_the_queue_lists_a_delivered_order_with_a_tel_link(
    client, db, settings, users
) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    response = await client.get("/follow-ups?tab=upcoming")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    row = html(response).select_one(f'[data-testid="fu-row"][data-task="{tid}"]')
    assert row is not None
    tel = row.select_one('[data-testid="fu-tel"]')
    assert tel is not None
    assert tel["href"] == "tel:" + task.phone.replace(" ", "")
    assert row.select_one('[data-testid="fu-open"]')["href"] == f"/follow-ups/{tid}"


async def test_the_badge_counts_due_and_overdue(client, db, settings, users) -> None:
    db.add(FollowUpTask(due_at=utcnow().replace(year=2020), contact_name="late"))
    await db.commit()
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = html(await client.get("/follow-ups"))
    slot = page.select_one('[data-testid="fu-badge-slot"]')
    assert slot is not None
    assert slot["hx-get"] == "/follow-ups/badge"
    assert "every 60s" in slot["hx-trigger"]
    response = await client.get("/follow-ups/badge", headers={"HX-Request": "true"})
    assert response.headers["cache-control"] == "no-store"
    badge = html(response).select_one('[data-testid="fu-badge"]')
    assert badge is not None
    assert badge.get_text(strip=True) == "待回访0 · 逾期1"


async def test_a_no_without_a_remark_is_refused_keeping_what_was_typed(
    client, db, settings, users
) -> None:
    task = await delivered(db, settings, users)
    tid, version = task.id, task.version
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = html(await client.get(f"/follow-ups/{tid}"))
    form = call_form(
        csrf_from(page), version, answer_car_clean="no", answer_walkaround="yes",
        remark_walkaround="很仔细", comment="服务很好",
    )  # fmt: skip
    response = await client.post(f"/follow-ups/{tid}", data=form)
    assert response.status_code == 422
    refused = html(response)
    remark = refused.select_one('[data-testid="remark-car_clean"]')
    assert remark is not None
    assert remark.get("aria-invalid") == "true"
    assert refused.select_one('[data-testid="answer-car_clean-no"]').has_attr("checked")
    assert refused.select_one('[data-testid="remark-walkaround"]')["value"] == "很仔细"
    assert refused.select_one("#fu-comment").get_text() == "服务很好"
    assert refused.select_one('[data-testid="satisfaction-4"]').has_attr("checked")
    # The record contradicts that "no" (the final check ticked the wash): flagged already.
    assert refused.select_one('[data-testid="flag-car_clean"]')["data-verdict"] == "contradicts"
    await db.rollback()
    assert await db.scalar(select(func.count(FollowUpAttempt.id))) == 0


async def test_the_flag_is_decided_by_the_server_as_the_clerk_taps(
    client, db, settings, users
) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    no = await client.get(
        f"/follow-ups/{tid}/flag/car_clean?answer_car_clean=no", headers={"HX-Request": "true"}
    )
    flag = html(no).select_one('[data-testid="flag-car_clean"]')
    assert flag["data-verdict"] == "contradicts"
    assert "记录显示相反" in flag.get_text()
    yes = await client.get(
        f"/follow-ups/{tid}/flag/walkaround?answer_walkaround=yes",
        headers={"HX-Request": "true"},
    )
    assert html(yes).select_one('[data-testid="flag-walkaround"]')["data-verdict"] == "unsupported"


async def test_a_reached_call_with_a_no_offers_the_complaint_in_one_tap(
    client, db, settings, users
) -> None:
    task = await delivered(db, settings, users)
    tid, version = task.id, task.version
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = html(await client.get(f"/follow-ups/{tid}"))
    assert page.select_one('[data-testid="fu-open-complaint"]') is None
    form = call_form(csrf_from(page), version, answer_car_clean="no", remark_car_clean="座椅有油污")
    response = await client.post(f"/follow-ups/{tid}", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/follow-ups/{tid}"
    after = html(await client.get(f"/follow-ups/{tid}"))
    await db.rollback()  # a fresh read: the app wrote meanwhile
    attempt = await db.scalar(select(FollowUpAttempt).where(FollowUpAttempt.task_id == tid))
    assert attempt is not None
    complaint = after.select_one('[data-testid="fu-complaint-form"]')
    assert complaint is not None
    assert complaint["method"] == "post"
    assert complaint["action"] == f"/complaints/from-call/{attempt.id}"
    assert complaint.select_one('input[name="_csrf_token"]') is not None
    saved = after.select_one('[data-testid="saved-car_clean"]')
    assert saved["data-verdict"] == "contradicts"
    assert after.select_one('[data-testid="fu-form"]') is None  # the call is done


async def test_a_stale_form_is_a_conflict(client, db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid, version = task.id, task.version
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    token = csrf_from(html(await client.get(f"/follow-ups/{tid}")))
    moved = {"_csrf_token": token, "version": str(version), "outcome": "no_answer"}
    assert (await client.post(f"/follow-ups/{tid}", data=moved)).status_code == 303
    stale = call_form(token, version)
    assert (await client.post(f"/follow-ups/{tid}", data=stale)).status_code == 409
    await db.rollback()
    assert await db.scalar(select(func.count(FollowUpAttempt.id))) == 1


async def test_a_complaint_call_asks_only_whether_the_customer_is_satisfied(
    client, db, users
) -> None:
    db.add(Dealership(code="D1", name="Demo"))
    task = FollowUpTask(reason="complaint", due_at=utcnow(), contact_name="王先生", phone="138")
    db.add(task)
    await db.commit()
    tid = task.id
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = html(await client.get(f"/follow-ups/{tid}"))
    assert page.select('[data-testid^="q-"]') == []
    assert page.select_one('[data-testid="satisfaction-3"]') is None
    assert page.select_one('[data-testid="satisfied-yes"]') is not None
    form = {"_csrf_token": csrf_from(page), "outcome": "reached", "spoke_with": "owner",
            "satisfied": "yes"}  # fmt: skip
    assert (await client.post(f"/follow-ups/{tid}", data=form)).status_code == 303
    await db.rollback()
    attempt = await db.scalar(select(FollowUpAttempt).where(FollowUpAttempt.task_id == tid))
    assert attempt is not None
    assert attempt.satisfied is True
