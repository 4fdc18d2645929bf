"""A technician's finding through the services until it has an answer: the
customer's signed approval or decline (a safety decline signs a sentence), or the
advisor's withdrawal with a reason. Until then it is counted for the advisor and
the car is not delivered; a declined one greets the vehicle's next visit."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _, locale_as
from app.models import (
    AuditEvent,
    LabourOperation,
    OutboundMessage,
    Recommendation,
    Role,
    Signature,
    Supplement,
    SupplementStatus,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import board_events
from app.services.estimate import editing
from app.services.lane_board import board as lane_board
from app.services.photos.pipeline import MAX_UPLOAD_BYTES, TooLarge
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from app.services.supplements.findings import Count
from app.services.workshop import board as workshop_board
from app.services.workshop import jobs as workshop
from app.settings import Settings
from tests.estimate_helpers import advisor, ink, order
from tests.test_delivery import ready_to_sign, refused_signing, sign
from tests.test_photo_pipeline import png
from tests.workshop_helpers import actor, dispatched, jpeg, refused

BRAKES = "左前刹车片磨损至 3mm"
Users = dict[Role, int]


async def reported(
    db: AsyncSession,
    users: Users,
    order_id: int,
    note: str = BRAKES,
    category: str = "brakes",
    *,
    priced: bool = True,
) -> int:
    """The technician reports a finding; the advisor prices it (or not yet); committed."""
    await db.rollback()  # a fresh snapshot: the app may have written since
    supplement = await workshop.report_finding(
        db, order_id, note, actor(users, Role.TECHNICIAN), category
    )
    supplement_id = supplement.id
    await db.commit()
    if priced:
        db.expire_all()
        supplement, wo = await supplements.get(db, supplement_id)
        job = await editing.add_job(
            db, wo, "更换前刹车片", None, advisor(users), supplement=supplement
        )
        brake = await db.scalar(select(LabourOperation).where(LabourOperation.code == "L-BRKF"))
        assert brake is not None
        await editing.add_line(
            db, wo, job.id, "labour", brake.id, None, None, advisor(users), utcnow().date(),
            supplement=supplement,
        )  # fmt: skip
    await db.commit()
    return supplement_id


async def sent(db: AsyncSession, settings: Settings, users: Users, supplement_id: int) -> str:
    """Sent to the customer by SMS; committed. The link's token."""
    supplement, wo = await supplements.get(db, supplement_id)
    token = await supplements.send(db, supplement, wo, "sms", settings, advisor(users), utcnow())
    await db.commit()
    return token


async def answer(
    db: AsyncSession,
    settings: Settings,
    users: Users,
    supplement_id: int,
    *,
    approve: bool = False,
    acknowledged: bool = False,
    locale: str = "zh_CN",
) -> Signature:
    """The customer signs an answer on the tablet (not committed)."""
    supplement, wo = await supplements.get(db, supplement_id)
    strokes, image = ink()
    return await supplements.decide(
        db, supplement, wo, approve=approve, signer_name=wo.customer.name, strokes_json=strokes,
        image_data_url=image, locale=locale, currency=settings.currency, actor=advisor(users),
        now=utcnow(), acknowledged=acknowledged,
    )  # fmt: skip


async def fresh(db: AsyncSession, supplement_id: int) -> Supplement:
    await db.rollback()
    db.expire_all()
    found = await db.get(Supplement, supplement_id)
    assert found is not None
    return found


# -- reporting ---------------------------------------------------------------------------


async def test_a_finding_names_what_it_concerns_and_safety_items_are_flagged(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    for category in (None, "", "wheels"):
        await refused(
            db, order_id, InvalidInput,
            lambda c=category: workshop.report_finding(db, order_id, BRAKES, tech, c),
            _("Tap what the finding concerns."), field="category",
        )  # fmt: skip
    flagged = {}
    for category in findings.CATEGORIES:
        supplement_id = await reported(
            db, users, order_id, f"{category} 问题", category, priced=False
        )
        flagged[category] = (await fresh(db, supplement_id)).safety
    assert flagged == {
        c: c in ("brakes", "tyres", "steering", "lights", "airbags") for c in flagged
    }
    first = await fresh(db, min((await findings.unanswered(db, order_id)), key=lambda s: s.id).id)
    assert (first.category, first.status) == ("brakes", SupplementStatus.DRAFT.value)
    event = await db.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "finding.reported")
        .order_by(AuditEvent.id)
        .limit(1)
    )
    assert event is not None
    assert event.details["category"] == "brakes"
    assert event.details["safety"] is True


async def test_a_finding_is_reported_with_its_photos_and_a_safety_flag(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    # Not a safety category, but the technician flags it: the door does not latch.
    supplement = await workshop.report_finding(
        db, order_id, "左后门锁扣不牢，行驶中可能打开", tech, "body",
        safety=True, photos=[jpeg(1), jpeg(2)], store=open_store(settings),
    )  # fmt: skip
    supplement_id = supplement.id
    await db.commit()
    found = await fresh(db, supplement_id)
    assert (found.category, found.safety) == ("body", True)
    photos = await findings.photos_of(db, found)
    assert len(photos) == 2
    assert {(p.stage, p.supplement_id) for p in photos} == {("finding", supplement_id)}
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "finding.reported"))
    assert event is not None
    assert (event.details["safety"], event.details["photos"]) == (True, 2)
    # Counted as a safety finding for the advisor.
    assert (await findings.counts(db, [order_id]))[order_id] == Count(open=1, safety=1)
    # Unflagged and of no safety category: an ordinary finding.
    plain = await workshop.report_finding(db, order_id, "雨刮片老化", tech, "other")
    assert plain.safety is False


async def test_a_refused_photo_refuses_the_whole_report(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    store = open_store(settings)
    for bad, error in (
        (b"GIF89a no picture here", InvalidInput),  # not an image
        (b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES), TooLarge),  # too many bytes
        (png(10_000, 10_000), TooLarge),  # a decompression bomb: 100 MP of nothing
    ):
        await refused(
            db, order_id, error,
            lambda b=bad: workshop.report_finding(
                db, order_id, BRAKES, tech, "brakes", photos=[jpeg(3), b], store=store
            ),
            field="photos",
        )  # fmt: skip
    too_many = [jpeg(n) for n in range(findings.MAX_PHOTOS + 1)]
    await refused(
        db, order_id, InvalidInput,
        lambda: workshop.report_finding(
            db, order_id, BRAKES, tech, "brakes", photos=too_many, store=store
        ),
        field="photos",
    )  # fmt: skip
    assert await db.scalar(select(func.count(Supplement.id))) == 0


async def test_the_customer_reads_the_safety_warning_first_in_the_request(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id, category="brakes")
    await sent(db, settings, users, supplement_id)
    body = await db.scalar(select(OutboundMessage.body).where(OutboundMessage.channel == "sms"))
    assert body is not None
    found = await fresh(db, supplement_id)
    with locale_as("zh_CN"):
        warning = findings.safety_warning(found)
    assert "制动" in warning
    assert body.startswith(f"⚠ {warning}")


async def test_a_reported_finding_reaches_every_open_board_at_once(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    before = board_events.broker.sequence
    await reported(db, users, order_id, priced=False)
    assert board_events.broker.sequence == before + 1


async def test_the_badge_counts_the_findings_without_an_answer(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    assert await findings.counts(db, [order_id]) == {}
    brakes = await reported(db, users, order_id)
    engine = await reported(db, users, order_id, "机油渗漏", "engine", priced=False)
    await sent(db, settings, users, brakes)  # pending counts as much as a draft

    assert await findings.counts(db, [order_id]) == {order_id: Count(open=2, safety=1)}
    lane = await lane_board.load(db, settings.tz)
    assert lane.findings[order_id] == Count(open=2, safety=1)
    card = next(
        c for c in (await workshop_board.load(db, settings.tz)).cards if c.order.id == order_id
    )
    assert card.findings == Count(open=2, safety=1)

    await answer(db, settings, users, brakes, acknowledged=True)
    await db.commit()
    assert await findings.counts(db, [order_id]) == {order_id: Count(open=1, safety=0)}
    await findings.withdraw(
        db, await fresh(db, engine), "与工单第1项重复", advisor(users), utcnow()
    )
    await db.commit()
    assert await findings.counts(db, [order_id]) == {}
    assert (await lane_board.load(db, settings.tz)).findings == {}


# -- delivery ----------------------------------------------------------------------------


async def test_delivery_is_refused_while_a_finding_has_no_answer(db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    # Reported and never priced: the draft that was once forgotten.
    supplement_id = await reported(db, users, order_id, priced=False)
    message = _(
        "%(finding)s has no answer yet: the customer approves or declines it, "
        "or the advisor withdraws it with a reason.",
        finding=findings.label(await fresh(db, supplement_id)),
    )
    assert BRAKES in message
    await refused_signing(db, settings, users, order_id, InvalidInput, message)

    found = await refused(db, order_id, InvalidInput, lambda: sign(db, settings, users, order_id))
    assert found.field == "delivery"

    await findings.withdraw(
        db, await fresh(db, supplement_id), "已在工单第1项中更换", advisor(users), utcnow()
    )
    await db.commit()
    await sign(db, settings, users, order_id)
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.DELIVERED


# -- the advisor withdraws ---------------------------------------------------------------


async def test_withdrawing_a_finding_needs_a_reason_and_it_cannot_be_sent_after(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    token = await sent(db, settings, users, supplement_id)
    for reason in ("", "   ", None):
        supplement = await fresh(db, supplement_id)
        await refused(
            db, order_id, InvalidInput,
            lambda r=reason, s=supplement: findings.withdraw(db, s, r, advisor(users), utcnow()),
            _("Say why the finding is withdrawn."), field="reason",
        )  # fmt: skip

    before = board_events.broker.sequence
    await findings.withdraw(
        db, await fresh(db, supplement_id), "  与工单第1项\n重复 ", advisor(users), utcnow()
    )
    await db.commit()
    assert board_events.broker.sequence == before + 1
    withdrawn = await fresh(db, supplement_id)
    assert withdrawn.status == SupplementStatus.WITHDRAWN.value
    assert withdrawn.withdrawn_reason == "与工单第1项 重复"
    assert withdrawn.withdrawn_by_id == users[Role.ADVISOR]
    assert withdrawn.withdrawn_at is not None
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "supplement.withdrawn"))
    assert event is not None
    assert event.details == {"supplement": supplement_id, "reason": "与工单第1项 重复"}

    wo = await order(db, order_id)
    cannot_send = _("This finding was withdrawn by the advisor; it cannot be sent.")
    await refused(
        db, order_id, Conflict,
        lambda: supplements.send(
            db, withdrawn, wo, "tablet", settings, advisor(users), utcnow()
        ),
        cannot_send,
    )  # fmt: skip
    await refused(
        db, order_id, Conflict,
        lambda: editing.add_job(db, wo, "更换刹车盘", None, advisor(users), supplement=withdrawn),
        cannot_send,
    )  # fmt: skip
    nothing_to_answer = _(
        "Your service advisor has withdrawn this request. There is nothing to answer."
    )
    await refused(
        db, order_id, supplements.Withdrawn, lambda: supplements.by_token(db, token, utcnow()),
        nothing_to_answer,
    )  # fmt: skip
    await refused(
        db, order_id, supplements.Withdrawn,
        lambda: answer(db, settings, users, supplement_id, approve=True), nothing_to_answer,
    )  # fmt: skip
    await refused(
        db, order_id, Conflict,
        lambda: findings.withdraw(db, withdrawn, "再撤回一次", advisor(users), utcnow()),
        _("This finding already has an answer; it cannot be withdrawn."),
    )  # fmt: skip


# -- the customer declines ---------------------------------------------------------------


async def test_declining_a_safety_finding_signs_the_sentence_that_the_customer_was_told(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    await sent(db, settings, users, supplement_id)
    await refused(
        db, order_id, InvalidInput, lambda: answer(db, settings, users, supplement_id),
        _("To decline, tick the sentence that you were told about this safety issue."),
        field="acknowledge",
    )  # fmt: skip

    signature = await answer(db, settings, users, supplement_id, acknowledged=True)
    signature_id = signature.id
    await db.commit()
    sentence = "我已被告知该安全隐患（制动：左前刹车片磨损至 3mm）并拒绝维修。"
    content = json.loads(signature.content)
    assert content["safety_statement"] == sentence
    assert content["finding"] == {"category": "brakes", "safety": True}
    assert content["decision"] == SupplementStatus.DECLINED.value
    assert (await fresh(db, supplement_id)).safety_statement == sentence
    signature = await db.get(Signature, signature_id)
    assert (await signatures.verify(db, signature, settings.currency)).intact

    # The sentence cannot be changed afterwards without the verification saying so.
    await db.execute(
        update(Supplement).where(Supplement.id == supplement_id).values(safety_statement="已告知")
    )
    await db.commit()
    checked = await signatures.verify(db, await db.get(Signature, signature_id), settings.currency)
    assert not checked.intact
    assert [(d.path, d.signed, d.now) for d in checked.differences] == [
        ("safety_statement", sentence, "已告知")
    ]


async def test_the_sentence_is_in_the_customers_language_and_approving_needs_none(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    tyres = await reported(db, users, order_id, "右后轮胎鼓包", "tyres")
    lights = await reported(db, users, order_id, "左前大灯不亮", "lights")
    for supplement_id in (tyres, lights):
        await sent(db, settings, users, supplement_id)

    declined = await answer(db, settings, users, tyres, acknowledged=True, locale="en")
    approved = await answer(db, settings, users, lights, approve=True)
    await db.commit()
    assert json.loads(declined.content)["safety_statement"] == (
        "I was told about this safety issue (Tyres: 右后轮胎鼓包) and decline the repair."
    )
    assert "safety_statement" not in json.loads(approved.content)
    for signature in (declined, approved):
        fresh_signature = await db.get(Signature, signature.id)
        assert (await signatures.verify(db, fresh_signature, settings.currency)).intact
    with locale_as("en"):
        assert findings.safety_statement(await fresh(db, tyres), "zh_CN").startswith("我已被告知")


async def test_a_declined_finding_stays_on_the_order_and_is_carried_to_the_next_visit(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    supplement_id = await reported(db, users, order_id)
    await sent(db, settings, users, supplement_id)
    await answer(db, settings, users, supplement_id, acknowledged=True)
    await db.commit()

    kept = await fresh(db, supplement_id)
    assert (kept.work_order_id, kept.status) == (order_id, SupplementStatus.DECLINED.value)
    wo = await order(db, order_id)
    carried = (
        await db.scalars(
            select(Recommendation).where(Recommendation.supplement_id == supplement_id)
        )
    ).all()
    assert [(r.vehicle_id, r.work_order_id, r.text, r.safety) for r in carried] == [
        (wo.vehicle_id, order_id, f"{BRAKES} — 更换前刹车片", True)
    ]
    assert carried[0].declined_at is not None
    # An approved finding is work to do, not a recommendation.
    approved = await reported(db, users, order_id, "雨刮片老化", "other")
    await sent(db, settings, users, approved)
    await answer(db, settings, users, approved, approve=True)
    await db.commit()
    assert (
        await db.scalar(select(Recommendation).where(Recommendation.supplement_id == approved))
        is None
    )
