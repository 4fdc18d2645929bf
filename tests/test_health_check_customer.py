"""The health check's findings priced, sent with one link, and answered by the customer
item by item with one signature: an approved item becomes work, a declined one is kept
for the next visit; a used, expired or tampered link changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    HealthCheck,
    HealthCheckResult,
    OutboundMessage,
    Recommendation,
    Role,
    Signature,
    Supplement,
    SupplementStatus,
)
from app.models.base import utcnow
from app.services.health_check import checks, customer, recommendations
from app.services.supplements import added_work
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import ink
from tests.workshop_helpers import actor, dispatched, hx, toast

Users = dict[Role, int]
ANSWERS = {"tread_rr": ("red", "1.2", "外侧磨损严重"), "pads_front": ("red", "2", ""),
           "wipers": ("yellow", "", "刮不干净"), "lights": ("green", "", "")}  # fmt: skip


async def completed(db: AsyncSession, settings: Any, users: Users) -> tuple[int, int]:
    """A dispatched car whose check found two red safety items, one yellow and one green;
    completed by the technician; committed. (order id, check id)"""
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    check = await checks.start(db, order_id, tech)
    for result in await checks.results(db, check.id):
        if result.key in ANSWERS:
            colour, mm, note = ANSWERS[result.key]
            await checks.save_item(
                db, result.id, colour=colour, measurement=mm, note=note,
                version=result.version, actor=tech, now=utcnow(),
            )  # fmt: skip
    await checks.complete(db, order_id, tech, utcnow())
    await db.commit()
    return order_id, check.id


async def priced(db: AsyncSession, settings: Any, users: Users) -> tuple[int, int]:
    order_id, check_id = await completed(db, settings, users)
    await recommendations.price(db, order_id, actor(users, Role.ADVISOR), utcnow())
    await db.commit()
    return order_id, check_id


async def _check(db: AsyncSession, check_id: int) -> HealthCheck:
    await db.rollback()
    found = await db.get(HealthCheck, check_id, populate_existing=True)
    assert found is not None
    return found


async def test_yellow_and_red_items_are_priced_from_the_catalogue_safety_first(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check_id = await priced(db, settings, users)
    recs = await recommendations.listed(db, await _check(db, check_id))
    assert [r.result.key for r in recs] == ["tread_rr", "pads_front", "wipers"]
    assert [r.supplement.safety for r in recs] == [True, True, False]
    codes = [sorted(line.code for job in r.jobs for line in job.lines) for r in recs]
    assert codes == [["L-TYRE", "P-TYRE"], ["L-BRKF", "P-BRKF"], ["P-WIPER"]]
    assert all(r.supplement.status == SupplementStatus.DRAFT.value for r in recs)
    assert "1.2 mm" in recs[0].supplement.note
    assert "外侧磨损严重" in recs[0].supplement.note
    # Pricing again adds nothing.
    await recommendations.price(db, order_id, actor(users, Role.ADVISOR), utcnow())
    await db.commit()
    assert await db.scalar(select(func.count(Supplement.id))) == 3


async def test_an_item_the_catalogue_cannot_price_waits_for_the_advisor(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check_id = await completed(db, settings, users)
    # The checklist names a code the dealership's catalogue does not carry.
    await db.execute(
        update(HealthCheckResult).where(HealthCheckResult.key == "wipers").values(item_id=None)
    )
    await db.commit()
    recs = await recommendations.price(db, order_id, actor(users, Role.ADVISOR), utcnow())
    await db.commit()
    unpriced = [r.result.key for r in recs if not r.priced]
    assert unpriced == ["wipers"]
    with pytest.raises(InvalidInput) as caught:
        await recommendations.send(db, order_id, "sms", settings, actor(users, Role.ADVISOR),
                                   utcnow())  # fmt: skip
    assert "雨刮片" in caught.value.message
    await db.rollback()
    assert (await _check(db, check_id)).token_hash is None


async def test_only_the_desk_prices_and_only_a_completed_check(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    check = await checks.start(db, order_id, tech)
    lights = next(r for r in await checks.results(db, check.id) if r.key == "lights")
    await checks.save_item(db, lights.id, colour="red", measurement="", note="左近光灯不亮",
                           version=lights.version, actor=tech, now=utcnow())  # fmt: skip
    await db.commit()
    with pytest.raises(Conflict):  # the technician has not completed it
        await recommendations.price(db, order_id, actor(users, Role.ADVISOR), utcnow())
    await db.rollback()
    await checks.complete(db, order_id, tech, utcnow())
    await db.commit()
    with pytest.raises(Forbidden):
        await recommendations.price(db, order_id, tech, utcnow())
    await db.rollback()
    assert await db.scalar(select(func.count(Supplement.id))) == 0


async def test_the_link_goes_by_sms_in_the_customers_language(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check_id = await priced(db, settings, users)
    token = await recommendations.send(
        db, order_id, "sms", settings, actor(users, Role.ADVISOR), utcnow()
    )
    await db.commit()
    message = await db.scalar(select(OutboundMessage).order_by(OutboundMessage.id.desc()))
    assert message is not None
    assert f"/health/{token}" in message.body
    assert "健康车检" in message.body
    check = await _check(db, check_id)
    assert check.token_hash == added_work.token_hash(token)
    assert check.sent_channel == "sms"
    statuses = await db.scalars(select(Supplement.status))
    assert set(statuses) == {SupplementStatus.PENDING.value}


def _form(recs: list[recommendations.Recommendation], **answers: str) -> dict[str, str]:
    strokes, image = ink()
    form = {"signer_name": "张三", "strokes": strokes, "image": image}
    for rec in recs:
        if rec.result.key in answers:
            form[f"answer-{rec.supplement.id}"] = answers[rec.result.key]
    return form


async def test_one_signature_answers_each_item_and_a_decline_comes_back_next_visit(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check_id = await priced(db, settings, users)
    token = await recommendations.send(
        db, order_id, "tablet", settings, actor(users, Role.ADVISOR), utcnow()
    )
    await db.commit()
    check = await customer.by_token(db, token, utcnow())
    recs = await recommendations.listed(db, check)
    form = _form(recs, tread_rr="approve", pads_front="decline", wipers="approve")
    pads = next(r.supplement.id for r in recs if r.result.key == "pads_front")
    keys = {r.supplement.id: r.result.key for r in recs}
    who = actor(users, Role.ADVISOR)

    async def answer(sent: dict[str, str]) -> Any:
        return await customer.decide(
            db, check, sent, locale="zh_CN", currency="CNY", actor=who, now=utcnow()
        )

    # A safety item declined without the sentence ticked: refused, nothing signed.
    with pytest.raises(InvalidInput) as caught:
        await answer(form)
    assert caught.value.field == f"acknowledge-{pads}"
    await db.rollback()
    assert await db.scalar(select(func.count(Signature.id))) == 1  # the work order's only
    # An item left unanswered: refused.
    check = await customer.by_token(db, token, utcnow())
    with pytest.raises(InvalidInput) as caught:
        await answer({k: v for k, v in form.items() if k != f"answer-{pads}"})
    assert caught.value.field == f"answer-{pads}"
    await db.rollback()

    check = await customer.by_token(db, token, utcnow())
    signed = await answer({**form, f"acknowledge-{pads}": "1"})
    await db.commit()
    assert len(signed) == 3
    statuses = dict((await db.execute(select(Supplement.id, Supplement.status))).tuples().all())
    by_key = {key: statuses[sid] for sid, key in keys.items()}
    assert by_key == {"tread_rr": "approved", "pads_front": "declined", "wipers": "approved"}
    kept = (
        await db.scalars(select(Recommendation).where(Recommendation.supplement_id.is_not(None)))
    ).all()
    assert [(r.safety, r.supplement_id) for r in kept] == [(True, pads)]
    assert "前制动片" in kept[0].text
    assert (await _check(db, check_id)).decided_at is not None
    # The link is single use.
    with pytest.raises(Conflict):
        await customer.by_token(db, token, utcnow())


async def test_an_expired_or_tampered_link_is_refused(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, _check_id = await priced(db, settings, users)
    token = await recommendations.send(
        db, order_id, "sms", settings, actor(users, Role.ADVISOR), utcnow()
    )
    await db.commit()
    with pytest.raises(NotFound):
        await customer.by_token(db, token[:-2] + "xx", utcnow())
    with pytest.raises(added_work.LinkExpired):
        await customer.by_token(db, token, utcnow() + timedelta(days=30))


# -- the screens ------------------------------------------------------------------------


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_customer_answers_on_the_page_of_the_link(client, db, settings, users) -> None:
    order_id, _check_id = await priced(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/health-checks/{order_id}"))
    assert len(page.select("[data-testid^=hc-priced-]")) == 3
    token = await recommendations.send(
        db, order_id, "sms", settings, actor(users, Role.ADVISOR), utcnow()
    )
    await db.commit()
    client.cookies.clear()
    answer = html(await client.get(f"/health/{token}"))
    assert answer.select_one("h1").text.strip().startswith("您的爱车")
    assert [s["data-testid"] for s in answer.select("[data-testid^=hc-rec-]")] == [
        "hc-rec-tread_rr", "hc-rec-pads_front", "hc-rec-wipers",
    ]  # fmt: skip
    assert answer.select_one("[data-testid=hc-line-lights]")["data-colour"] == "green"
    csrf = await csrf_token(client, "/sign-in")
    sent = {}
    for rec in answer.select("[data-testid^=hc-rec-]"):
        name = rec.select_one("input[type=radio]")["name"]
        sent[name] = "approve"
    strokes, image = ink()
    empty = await client.post(f"/health/{token}", data=sent, headers=hx(csrf))
    assert empty.status_code == 422
    assert toast(empty)["field"] in ("signer_name", "strokes", "image")
    done = await client.post(
        f"/health/{token}",
        data={**sent, "signer_name": "张三", "strokes": strokes, "image": image},
        headers=hx(csrf),
    )
    assert done.status_code == 200, done.text
    decided = html(done).select("[data-testid^=hc-decided-]")
    assert {d["data-status"] for d in decided} == {"approved"}
    again = await client.get(f"/health/{token}")
    assert again.status_code == 409


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_customers_copy_stays_behind_the_used_link_with_its_pdf(
    client, db, settings, users
) -> None:
    order_id, _check_id = await priced(db, settings, users)
    token = await recommendations.send(
        db, order_id, "sms", settings, actor(users, Role.ADVISOR), utcnow()
    )
    await db.commit()
    # Not answered yet: no copy.
    assert (await client.get(f"/health/{token}/copy")).status_code == 404
    check = await customer.by_token(db, token, utcnow())
    recs = await recommendations.listed(db, check)
    form = _form(recs, tread_rr="approve", pads_front="approve", wipers="decline")
    await customer.decide(db, check, form, locale="zh_CN", currency="CNY",
                          actor=actor(users, Role.ADVISOR), now=utcnow())  # fmt: skip
    await db.commit()
    copy = await client.get(f"/health/{token}/copy")
    assert copy.status_code == 200
    page = html(copy)
    assert page.select_one("[data-testid=hc-decided-wipers]")["data-status"] == "declined"
    assert page.select_one("[data-testid=hc-copy-pdf]")["href"] == f"/health/{token}/copy.pdf"
    document = await client.get(f"/health/{token}/copy.pdf")
    assert document.status_code == 200
    assert document.content.startswith(b"%PDF")
    assert (await client.get(f"/health/{token[:-3]}abc/copy")).status_code == 404
    # Long after the answer the copy is no longer online.
    with pytest.raises(added_work.LinkExpired):
        await customer.copy_by_token(db, token, utcnow() + timedelta(days=customer.COPY_DAYS + 1))
