"""The complaint pages over HTTP: who sees what (an advisor their own customers' only),
a refused form keeps what was typed with the field marked, a stale form is a conflict."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Complaint, ComplaintEvent, FollowUpAttempt, FollowUpTask, Role, StaffUser
from app.models.base import utcnow
from app.services.complaints import record
from tests.complaint_helpers import check_call, delivered_order, relations
from tests.conftest import csrf_from, html, sign_in

pytestmark = [pytest.mark.http_layer, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


async def _complaint(db, settings, users, severity="general", number="WO1") -> Complaint:
    order = await delivered_order(db, users, utcnow(), number)
    complaint = await record.create(
        db, settings, relations(users), utcnow(), work_order_id=order.id, channel="phone",
        words="刹车有异响。", severity=severity,
    )  # fmt: skip
    await db.commit()
    return complaint


async def _page(client, complaint_id: int):
    response = await client.get(f"/complaints/{complaint_id}")
    assert response.status_code == 200, response.text
    return html(response)


async def test_relations_take_a_complaint_through_the_steps(client, db, settings, users) -> None:
    c = await _complaint(db, settings, users)
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = await _page(client, c.id)
    assert page.select_one("[data-testid=step-listen]")["data-state"] == "current"
    token = csrf_from(page)
    sent = await client.post(f"/complaints/{c.id}/listen", data={
        "_csrf_token": token, "version": str(c.version), "words": "刹车有异响。",
        "what": "低速刹车异响", "read_back": "1",
    })  # fmt: skip
    assert sent.status_code == 303
    page = await _page(client, c.id)
    assert page.select_one("[data-testid=step-facts]")["data-state"] == "current"
    assert "低速刹车异响" in page.select_one("[data-testid=done-listen]").text
    # An htmx save answers with the record's fragment alone.
    await db.refresh(c)
    frag = await client.post(
        f"/complaints/{c.id}/facts",
        data={"_csrf_token": token, "version": str(c.version), "facts": "复现",
              "cause": "repair_quality", "responsibility": "dealer"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert frag.status_code == 200
    assert html(frag).select_one("#record") is not None
    assert "<html" not in frag.text
    assert html(frag).select_one("[data-testid=step-decide]")["data-state"] == "current"


async def test_a_refused_step_keeps_what_was_typed_and_marks_the_field(
    client, db, settings, users
) -> None:
    c = await _complaint(db, settings, users)
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    token = csrf_from(await _page(client, c.id))
    refused = await client.post(f"/complaints/{c.id}/listen", data={
        "_csrf_token": token, "version": str(c.version), "words": "刹车有异响。",
        "what": "低速刹车异响", "where": "小区地库",
    })  # fmt: skip
    assert refused.status_code == 422
    page = html(refused)
    assert page.select_one("[data-testid=w2h-where]")["value"] == "小区地库"
    assert page.select_one("[data-testid=read-back]")["aria-invalid"] == "true"
    assert "复述" in page.select_one("#error-read_back").text
    await db.refresh(c)
    assert (c.step, c.summary) == ("listen", {})


async def test_a_stale_form_is_refused_with_409_and_changes_nothing(client, db, settings, users):
    c = await _complaint(db, settings, users)
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    token = csrf_from(await _page(client, c.id))
    stale = await client.post(f"/complaints/{c.id}/listen", data={
        "_csrf_token": token, "version": str(c.version - 1), "words": "x", "what": "x",
        "read_back": "1",
    })  # fmt: skip
    assert stale.status_code == 409
    await db.refresh(c)
    assert c.step == "listen"


async def test_closing_without_a_satisfied_call_is_refused(client, db, settings, users) -> None:
    c = await _complaint(db, settings, users)
    c.step, c.acted_at = "follow_up", utcnow() - timedelta(hours=1)
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    token = csrf_from(await _page(client, c.id))
    refused = await client.post(
        f"/complaints/{c.id}/close", data={"_csrf_token": token, "version": str(c.version)}
    )
    assert refused.status_code == 422
    assert "回访" in html(refused).select_one("[data-testid=form-error]").text
    await check_call(db, c.id, True, utcnow())
    await db.commit()
    await db.refresh(c)
    closed = await client.post(
        f"/complaints/{c.id}/close", data={"_csrf_token": token, "version": str(c.version)}
    )
    assert closed.status_code == 303, closed.text
    await db.commit()  # end the read snapshot taken before the request
    await db.refresh(c)
    assert c.step == "closed"


async def test_an_advisor_reads_their_own_customers_complaints_only(
    client, db, settings, users
) -> None:
    c = await _complaint(db, settings, users)
    other = await _complaint(db, settings, users, number="WO2")
    other.advisor_id = users[Role.FOREMAN]
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    listing = html(await client.get("/complaints"))
    shown = [li["data-testid"] for li in listing.select("[data-testid^=complaint-TS]")]
    assert shown == [f"complaint-{c.number}"]
    page = await _page(client, c.id)
    assert page.select_one("[data-testid=form-listen]") is None  # read only
    assert (await client.get(f"/complaints/{other.id}")).status_code == 404
    token = csrf_from(page)
    denied = await client.post(f"/complaints/{c.id}/acknowledge",
                               data={"_csrf_token": token, "version": str(c.version)})  # fmt: skip
    assert denied.status_code == 403


async def test_technicians_see_no_complaints(client, db, settings, users) -> None:
    c = await _complaint(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    assert (await client.get("/complaints")).status_code == 403
    assert (await client.get(f"/complaints/{c.id}")).status_code == 403


async def test_a_new_complaint_is_recorded_and_a_serious_one_shows_on_the_badge_and_board(
    client, db, settings, users
) -> None:
    order = await delivered_order(db, users, utcnow())
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    form = html(await client.get(f"/complaints/new?order={order.id}"))
    token = csrf_from(form)
    assert form.select_one("input[name=work_order_id]:checked")["value"] == str(order.id)
    empty = await client.post("/complaints/new", data={
        "_csrf_token": token, "vehicle_id": str(order.vehicle_id), "work_order_id": str(order.id),
        "channel": "in_person", "words": "", "severity": "serious",
    })  # fmt: skip
    assert empty.status_code == 422
    assert html(empty).select_one("[data-testid=complaint-words]")["aria-invalid"] == "true"
    assert html(empty).select_one("input[name=severity][value=serious]").has_attr("checked")
    made = await client.post("/complaints/new", data={
        "_csrf_token": token, "vehicle_id": str(order.vehicle_id), "work_order_id": str(order.id),
        "channel": "in_person", "words": "刹车失灵，差点追尾。", "severity": "serious",
    })  # fmt: skip
    assert made.status_code == 303
    complaint = await db.scalar(select(Complaint))
    assert made.headers["location"] == f"/complaints/{complaint.id}"
    assert complaint.manager_alerted_at is not None
    badge = html(await client.get("/complaints/badge"))
    assert badge.select_one("[data-testid=complaint-badge]")["data-count"] == "1"
    board = html(await client.get("/lane"))
    assert board.select_one(f"[data-testid=banner-{complaint.number}]") is not None


async def test_from_a_call_opens_one_complaint(client, db, settings, users) -> None:
    order = await delivered_order(db, users, utcnow())
    task = FollowUpTask(work_order_id=order.id, customer_id=order.customer_id,
                        vehicle_id=order.vehicle_id, due_at=utcnow())  # fmt: skip
    db.add(task)
    await db.flush()
    attempt = FollowUpAttempt(task_id=task.id, outcome="reached", comment="车没洗。")
    db.add(attempt)
    await db.commit()
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    token = csrf_from(html(await client.get("/complaints")))
    first = await client.post(f"/complaints/from-call/{attempt.id}", data={"_csrf_token": token})
    second = await client.post(f"/complaints/from-call/{attempt.id}", data={"_csrf_token": token})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len((await db.scalars(select(Complaint))).all()) == 1
    assert (await db.scalar(select(ComplaintEvent.kind))) == "received"
    assert await db.get(StaffUser, users[Role.CUSTOMER_RELATIONS]) is not None


async def test_the_new_complaint_form_finds_the_car_by_plate(client, db, settings, users) -> None:
    order = await delivered_order(db, users, utcnow(), "WO7")
    await db.commit()
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    found = html(await client.get("/complaints/new", params={"q": "粤BWO788"}))
    hits = [a["href"] for a in found.select("[data-testid=complaint-hits] a")]
    assert hits == [f"/complaints/new?vehicle={order.vehicle_id}"]
    form = html(await client.get(hits[0]))
    assert form.select_one("input[name=work_order_id]:checked")["value"] == str(order.id)
    assert form.select_one("[data-testid=repeat-warning]") is None
