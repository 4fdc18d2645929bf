"""The estimate, customer mode and signing over HTTP, as the tablet drives them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Job, JobLine, LabourOperation, Role, Signature, WorkOrderStatus
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import completed_check_in, ink, order, priced_estimate

pytestmark = pytest.mark.http_layer


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "x-csrftoken": token}


async def test_the_estimate_starts_with_a_job_per_concern_and_prices_from_the_catalogue(
    client, db, settings, users
) -> None:
    order_id = await completed_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = await client.get(f"/work-orders/{order_id}/estimate")
    assert page.status_code == 200
    jobs = html(page).select("[data-testid=job]")
    assert len(jobs) == 1
    job_id = jobs[0]["data-job"]
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    found = await client.get(f"/work-orders/{order_id}/estimate/search?q=机油&job={job_id}",
                             headers={"HX-Request": "true"})  # fmt: skip
    codes = [b["data-code"] for b in html(found).select("[data-testid=hit]")]
    assert "L-OIL" in codes
    assert "P-OIL4" in codes
    oil = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-OIL"))
    expected = [("L-OIL", oil.flat_rate_hours, oil.labour_rate)]
    version = html(page).select_one("#version")["value"]
    added = await client.post(
        f"/work-orders/{order_id}/estimate/add-line",
        data={"job": job_id, "kind": "labour", "item": str(oil.id), "version": version},
        headers=hx(token),
    )
    assert added.status_code == 200, added.text
    line = html(added).select_one("[data-testid=line]")
    assert line["data-code"] == "L-OIL"
    wo = await order(db, order_id)
    lines = await db.scalars(select(JobLine).join(Job).where(Job.work_order_id == order_id))
    assert [(ln.code, ln.quantity, ln.unit_price) for ln in lines] == expected
    assert wo.status == WorkOrderStatus.ESTIMATE


async def test_a_stale_estimate_form_is_a_conflict_and_changes_nothing(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    response = await client.post(
        f"/work-orders/{order_id}/estimate/add-job",
        data={"title": "检查空调", "version": "1"},
        headers=hx(token),
    )
    assert response.status_code == 409
    assert "wa:toast" in response.headers["hx-trigger"]
    assert await db.scalar(select(func.count(Job.id)).where(Job.title == "检查空调")) == 0


async def test_a_discount_beyond_the_advisors_limit_is_refused(client, db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    version = (await order(db, order_id)).version
    response = await client.post(
        f"/work-orders/{order_id}/estimate/discount",
        data={"discount": "9999", "discount_reason": "老客户", "version": str(version)},
        headers=hx(token),
    )
    assert response.status_code == 403
    assert (await order(db, order_id)).discount_amount == 0


async def test_customer_mode_locks_the_tablet_until_the_advisor_password(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    entered = await client.post(
        f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token}
    )
    assert entered.status_code == 303
    assert entered.headers["location"] == f"/review/{order_id}"
    review = await client.get(f"/review/{order_id}")
    assert review.status_code == 200
    assert html(review).select_one("[data-testid=review-total]") is not None
    # Staff screens send the customer back to the review.
    lane = await client.get("/lane")
    assert lane.status_code == 303
    assert lane.headers["location"] == f"/review/{order_id}"
    wrong = await client.post("/customer-mode/exit", data={"password": "nope"}, headers=hx(token))
    assert wrong.status_code == 422
    assert (await client.get("/lane")).status_code == 303
    right = await client.post(
        "/customer-mode/exit", data={"password": "pw-advisor"}, headers=hx(token)
    )
    assert right.status_code == 201
    assert right.headers["hx-redirect"] == f"/work-orders/{order_id}"
    assert (await client.get("/lane")).status_code == 200


async def test_the_customer_signs_in_customer_mode(client, db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    await client.post(f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token})
    review = html(await client.get(f"/review/{order_id}"))
    version = review.select_one("#version")["value"]
    strokes, image = ink()
    empty = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": "张三", "strokes": "[]", "image": "", "version": version},
        headers=hx(token),
    )
    assert empty.status_code == 422
    assert await db.scalar(select(func.count(Signature.id))) == 0
    signed = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": "张三", "strokes": strokes, "image": image, "version": version},
        headers=hx(token),
    )
    assert signed.status_code == 201, signed.text
    assert signed.headers["hx-redirect"] == f"/review/{order_id}/thanks"
    thanks = await client.get(f"/review/{order_id}/thanks")
    await db.rollback()
    sig = await db.scalar(select(Signature))
    assert sig.content_hash in thanks.text
    again = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": "张三", "strokes": strokes, "image": image, "version": version},
        headers=hx(token),
    )
    assert again.status_code == 409
    assert await db.scalar(select(func.count(Signature.id))) == 1
    await client.post("/customer-mode/exit", data={"password": "pw-advisor"}, headers=hx(token))
    verify = await client.get(f"/verify/{sig.id}?format=json")
    assert verify.json()["intact"] is True
    page = await client.get(f"/verify/{sig.id}")
    assert html(page).select_one("[data-testid=verify-result]")["data-intact"] == "true"
    audit = await client.get(f"/work-orders/{order_id}/audit.csv")
    assert audit.headers["content-type"].startswith("text/csv")
    assert "work_order.signed" in audit.text


def test_each_change_has_its_own_url_in_the_openapi_schema(app) -> None:
    """The route list and the schema say what the screens do: no catch-all /{action}."""
    paths = app.openapi_schema.paths or {}
    assert not [p for p in paths if "{action}" in p]
    estimate = "/work-orders/{order_id}/estimate/"
    for change in ("start", "add-job", "add-line", "quantity", "price", "remove-line",
                   "remove-job", "warranty", "decline", "menu", "discount", "promised",
                   "return-visit"):  # fmt: skip
        assert estimate + change in paths
    for change in ("add-job", "add-line", "remove-line", "promised", "withdraw", "send"):
        assert "/supplements/{supplement_id}/" + change in paths
    for step in ("start", "finish", "self-check", "mutual-check"):
        assert "/my-jobs/tasks/{task_id}/" + step in paths
    for step in ("listen", "facts", "decide", "explain", "act", "follow-up", "close"):
        assert "/complaints/{complaint_id}/" + step in paths
