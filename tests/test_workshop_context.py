"""The technician's /my-jobs over HTTP: what they need to know about the car (the
customer's words and 5W2H answers, the check-in photos and damage marks, the parts,
the promised time) and what they are never shown (prices, phone numbers); the
self-check list refused when partly ticked, what was ticked kept on the page."""

from __future__ import annotations

from sqlalchemy import update

from app.i18n import locale_as
from app.models import CheckIn, Concern, LineKind, Role
from app.models.base import utcnow
from app.services.check_in import symptoms
from app.services.estimate import pricing
from app.services.workshop import checklist
from app.services.workshop import jobs as workshop
from tests.conftest import csrf_from, html, sign_in
from tests.estimate_helpers import order
from tests.workshop_helpers import (
    actor,
    check_in_of,
    dispatch_all,
    signed_order_with,
    tasks,
)

WHEN = "冷车启动后前五分钟"
HOW = "刹车时吱吱响"


async def car_on_the_ramp(db, settings, users) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A signed order checked in with two photos, a damage mark and a concern whose
    5W2H the advisor asked, dispatched to the technician; (order id, task id)."""
    order_id = await signed_order_with(
        db, settings, users, photo_positions=("front", "left"), consent_road_test=True
    )
    check_in = await check_in_of(db, order_id)
    await db.execute(
        update(Concern).where(Concern.check_in_id == check_in.id).values(when=WHEN, how=HOW)
    )
    await db.commit()
    await dispatch_all(db, users, order_id)
    return order_id, (await tasks(db, order_id))[0].id


async def test_my_jobs_shows_the_cars_context_and_no_prices_or_phones(
    client, db, settings, users
) -> None:
    order_id, task_id = await car_on_the_ramp(db, settings, users)
    wo = await order(db, order_id)
    check_in = await db.get(CheckIn, (await check_in_of(db, order_id)).id)
    assert check_in is not None
    words = check_in.concerns[0].customer_words
    jobs = await pricing.order_jobs(db, wo)
    lines = [line for job in jobs for line in job.lines]
    part = next(line for line in lines if line.kind == LineKind.PART.value)
    phone = wo.customer.phone
    await sign_in(client, Role.TECHNICIAN)
    response = await client.get("/my-jobs")
    assert response.status_code == 200
    job = html(response).select_one(f"[data-testid=job-{task_id}]")

    assert words in job.select_one(f"[data-testid=words-{task_id}]").text
    w2h = job.select_one(f"[data-testid=w2h-{task_id}]")
    with locale_as("zh_CN"):
        labels = symptoms.w2h_labels()
    answers = dict(
        zip(
            [dt.text for dt in w2h.select("dt")[1:]],
            [dd.text for dd in w2h.select("dd")],
            strict=True,
        )
    )
    assert answers == {labels["when"]: WHEN, labels["how"]: HOW}
    shots = job.select(f"[data-testid=shot-{task_id}]")
    assert len(shots) == 2
    for shot in shots:  # each thumbnail opens its photo full size
        big = job.select_one(shot["href"])
        assert big is not None
        assert big.select_one("img")["src"].endswith("/display")
    assert "划痕" in job.select_one(f"[data-testid=marks-{task_id}]").text
    assert job.select("[data-testid=diagram] .mark")
    parts = job.select_one(f"[data-testid=parts-{task_id}]").text
    assert part.name_zh in parts
    assert part.code in parts
    assert job.select_one(f"[data-testid=promised-{task_id}] strong").text.strip() not in ("", "—")

    page = response.text
    for line in lines:
        for amount in (line.unit_price, line.list_price):
            assert f"{amount:,.2f}" not in page
            assert f"{amount:.2f}" not in page
    assert "¥" not in page
    assert phone
    assert phone not in page
    assert phone[-4:] not in job.text
    assert 'href="tel:' not in page


async def test_a_partly_ticked_self_check_comes_back_as_ticked_with_the_open_item_marked(
    client, db, settings, users
) -> None:
    order_id, task_id = await car_on_the_ramp(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    await workshop.start(db, task_id, tech, utcnow())
    await workshop.finish(db, task_id, tech, utcnow())
    await db.commit()
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    form = page.select_one(f"[data-testid=self-check-form-{task_id}]")
    keys = [li["data-testid"].rsplit("-", 1)[-1] for li in form.select("li.ws-check")]
    assert "road_test" in keys  # the customer signed for a road test
    sent = {checklist.field(k): "ok" for k in keys if k != "road_test"}
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/self-check",
        data={
            "_csrf_token": csrf_from(page),
            "version": form.select_one("[name=version]")["value"],
            **sent,
        },
    )
    assert response.status_code == 422
    again = html(response).select_one(f"[data-testid=self-check-form-{task_id}]")
    for key in keys:
        radio = again.select_one(f"input[name=check-{key}][value=ok]")
        assert radio.has_attr("checked") == (key != "road_test"), key
    assert again.select_one("input[name=check-road_test]")["aria-invalid"] == "true"
    assert again.select_one(f"#error-check-road_test-{task_id}").text.strip()
    assert (await tasks(db, order_id))[0].self_checked_at is None
