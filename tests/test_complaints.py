"""Complaints through seed 001's seven steps: each step's preconditions, the authority
limits, the time limits in opening hours with pauses, closing only after a satisfied call,
sent back when not, a complaint from a follow-up call, and the manager's alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    Answer,
    AttemptOutcome,
    Complaint,
    ComplaintEvent,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpTask,
    OutboundMessage,
    Role,
)
from app.services.complaints import access, alerts, clock, closing, record, steps, tracking
from tests.complaint_helpers import (
    advisor,
    check_call,
    delivered_order,
    manager,
    manager_contact,
    relations,
)

SH = ZoneInfo("Asia/Shanghai")
# Wednesday 2 December 2026, 17:00 in Shanghai: an hour before closing (08:30-18:00).
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=SH).astimezone(UTC)


def local(c: datetime | None) -> datetime:
    assert c is not None
    return (c if c.tzinfo else c.replace(tzinfo=UTC)).astimezone(SH)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


async def _received(db, settings, users, severity="general", now=NOW, number="WO20261130-001"):
    order = await delivered_order(db, users, now, number)
    complaint = await record.create(
        db, settings, relations(users), now, work_order_id=order.id, channel="phone",
        words="刹车有异响，修了还响。", severity=severity,
    )  # fmt: skip
    await db.flush()
    return complaint


async def _through_act(db, settings, users, c: Complaint, now=NOW) -> Complaint:
    who = relations(users)
    await steps.listen(db, c.id, who, c.version, now, words=c.words,
                       summary={"what": "刹车异响", "when": "低速制动"},
                       read_back=True)  # fmt: skip
    await steps.facts(db, c.id, who, c.version, now, facts="试车复现，刹车片未按规定装配。",
                      cause="repair_quality", responsibility="dealer")  # fmt: skip
    await steps.decide(db, c.id, who, c.version, now, decision="免费返修并赠送保养", amount="300")
    await steps.explain(db, c.id, who, c.version, now, explanation="已当面说明", agreed="yes")
    await steps.act(db, c.id, who, c.version, now, kind="rework", action="返修刹车")
    return c


async def test_receiving_sets_the_due_times_in_opening_hours(db, settings, users) -> None:
    c = await _received(db, settings, users)
    assert (c.number, c.step, c.channel) == ("TS20261202-001", "listen", "phone")
    assert c.advisor_id == users[Role.ADVISOR]
    # Two hours to acknowledge: one before closing, one after opening on Thursday.
    assert local(c.ack_due_at) == at(2026, 12, 3, 9, 30)
    # Three opening days (3 x 9.5 h) from 17:00 Wednesday: Saturday 17:00.
    assert local(c.close_due_at) == at(2026, 12, 5, 17, 0)
    assert c.acknowledged_at is None
    assert c.manager_alerted_at is None


async def test_a_pause_moves_both_due_times_by_the_opening_hours_waited(db, settings, users):
    c = await _received(db, settings, users)
    who = relations(users)
    await tracking.pause(db, c.id, who, c.version, NOW + timedelta(minutes=30), "parts")
    assert not clock.is_overdue(c, NOW + timedelta(days=30))  # paused: never overdue
    resumed_at = datetime(2026, 12, 3, 9, 30, tzinfo=SH).astimezone(UTC)
    await tracking.resume(db, settings, c.id, who, c.version, resumed_at)
    # 17:30-18:00 and 08:30-09:30: 1.5 h of opening time waited; the night does not count.
    assert c.paused_seconds == 5400
    assert local(c.ack_due_at) == at(2026, 12, 3, 11, 0)
    assert local(c.close_due_at) == at(2026, 12, 6, 9, 0)
    kinds = (await db.scalars(select(ComplaintEvent.kind).order_by(ComplaintEvent.id))).all()
    assert list(kinds) == ["received", "paused", "resumed"]


async def test_listening_needs_the_summary_read_back(db, settings, users) -> None:
    c = await _received(db, settings, users)
    with pytest.raises(InvalidInput) as refused:
        await steps.listen(db, c.id, relations(users), c.version, NOW, words="刹车响",
                           summary={"what": "刹车异响"}, read_back=False)  # fmt: skip
    assert refused.value.field == "read_back"
    assert (c.step, c.summary_read_back, c.acknowledged_at) == ("listen", False, None)
    with pytest.raises(InvalidInput) as no_what:
        await steps.listen(db, c.id, relations(users), c.version, NOW, words="刹车响",
                           summary={}, read_back=True)  # fmt: skip
    assert no_what.value.field == "what"


async def test_a_stale_form_or_a_step_already_done_is_a_conflict(db, settings, users) -> None:
    c = await _received(db, settings, users)
    with pytest.raises(Conflict):
        await steps.listen(db, c.id, relations(users), c.version - 1, NOW, words="x",
                           summary={"what": "x"}, read_back=True)  # fmt: skip
    with pytest.raises(Conflict):
        await steps.facts(db, c.id, relations(users), c.version, NOW, facts="x",
                          cause="parts", responsibility="dealer")  # fmt: skip
    assert c.step == "listen"


async def test_any_step_acknowledges_and_facts_need_cause_and_responsibility(db, settings, users):
    c = await _received(db, settings, users)
    who = relations(users)
    await steps.listen(db, c.id, who, c.version, NOW + timedelta(minutes=5), words="刹车响",
                       summary={"what": "刹车异响"}, read_back=True)  # fmt: skip
    assert c.acknowledged_at == NOW + timedelta(minutes=5)
    with pytest.raises(InvalidInput) as no_cause:
        await steps.facts(db, c.id, who, c.version, NOW, facts="试车复现", cause="",
                          responsibility="dealer")  # fmt: skip
    assert no_cause.value.field == "cause"
    with pytest.raises(InvalidInput) as no_party:
        await steps.facts(db, c.id, who, c.version, NOW, facts="试车复现", cause="parts",
                          responsibility="")  # fmt: skip
    assert no_party.value.field == "responsibility"
    assert c.step == "facts"


async def test_a_decision_above_the_roles_authority_is_refused_naming_who_decides(
    db, settings, users
) -> None:
    c = await _received(db, settings, users)
    who = relations(users)
    await steps.listen(db, c.id, who, c.version, NOW, words="x", summary={"what": "x"},
                       read_back=True)  # fmt: skip
    await steps.facts(db, c.id, who, c.version, NOW, facts="x", cause="price",
                      responsibility="dealer")  # fmt: skip
    with pytest.raises(InvalidInput) as above_advisor:
        await steps.decide(db, c.id, who, c.version, NOW, decision="退款", amount="500.01")
    assert above_advisor.value.field == "amount"
    assert "服务经理" in above_advisor.value.message
    with pytest.raises(InvalidInput) as above_manager:
        await steps.decide(db, c.id, manager(users), c.version, NOW, decision="退款", amount="5001")
    assert "总经理" in above_manager.value.message
    assert (c.step, c.decision, c.decided_by_id) == ("decide", "", None)
    await steps.decide(db, c.id, manager(users), c.version, NOW, decision="退款", amount="5000")
    assert (c.step, str(c.decision_amount), c.decided_by_id) == (
        "explain", "5000.00", users[Role.SERVICE_MANAGER],
    )  # fmt: skip


async def test_a_customer_who_does_not_agree_sends_it_back_to_decide(db, settings, users):
    c = await _received(db, settings, users)
    who = relations(users)
    await steps.listen(db, c.id, who, c.version, NOW, words="x", summary={"what": "x"},
                       read_back=True)  # fmt: skip
    await steps.facts(db, c.id, who, c.version, NOW, facts="x", cause="price",
                      responsibility="dealer")  # fmt: skip
    await steps.decide(db, c.id, who, c.version, NOW, decision="赠送保养", amount="")
    await steps.explain(db, c.id, who, c.version, NOW, explanation="已说明", agreed="no")
    assert (c.step, c.customer_agreed) == ("decide", False)


async def test_closing_needs_a_satisfied_call_after_the_action(db, settings, users) -> None:
    c = await _received(db, settings, users)
    who = relations(users)
    # A satisfied call before the action does not count.
    await check_call(db, c.id, True, NOW - timedelta(minutes=1))
    await _through_act(db, settings, users, c)
    assert c.step == "follow_up"
    with pytest.raises(InvalidInput) as refused:
        await closing.close(db, c.id, who, c.version, NOW + timedelta(hours=1))
    assert refused.value.message == "结案需要一次回访确认客户满意。"
    task = await closing.schedule_check_call(db, c.id, who, c.version, NOW + timedelta(hours=1))
    assert (task.reason, task.complaint_id, task.phone, task.status) == (
        "complaint", c.id, "13800138000", "open",
    )  # fmt: skip
    assert local(task.due_at) == at(2026, 12, 2, 18, 0)
    assert await closing.schedule_check_call(db, c.id, who, c.version, NOW) is task
    await check_call(db, c.id, True, NOW + timedelta(hours=20))
    await closing.close(db, c.id, who, c.version, NOW + timedelta(hours=21))
    assert (c.step, c.closed_at) == ("closed", NOW + timedelta(hours=21))
    with pytest.raises(Conflict):
        await closing.close(db, c.id, who, c.version, NOW + timedelta(hours=22))


async def test_a_call_that_finds_them_not_satisfied_sends_it_back_to_the_failed_step(
    db, settings, users
) -> None:
    c = await _received(db, settings, users)
    who = relations(users)
    await _through_act(db, settings, users, c)
    await check_call(db, c.id, False, NOW + timedelta(hours=2))
    with pytest.raises(InvalidInput):
        await closing.close(db, c.id, who, c.version, NOW + timedelta(hours=3))
    with pytest.raises(InvalidInput):
        await closing.send_back(db, c.id, who, c.version, NOW, step="closed")
    await closing.send_back(db, c.id, who, c.version, NOW + timedelta(hours=3), step="act")
    assert c.step == "act"
    sent = await db.scalar(select(ComplaintEvent).where(ComplaintEvent.kind == "sent_back"))
    assert sent is not None
    assert sent.step == "act"
    # The old unsatisfied call is before the new action: a new call is needed to close.
    await steps.act(db, c.id, who, c.version, NOW + timedelta(hours=4), kind="goodwill",
                    action="更换刹车片并赠送保养")  # fmt: skip
    with pytest.raises(Conflict):
        await closing.send_back(db, c.id, who, c.version, NOW, step="act")
    await check_call(db, c.id, True, NOW + timedelta(hours=5))
    await closing.close(db, c.id, who, c.version, NOW + timedelta(hours=5))
    assert c.step == "closed"


async def test_a_complaint_from_a_call_is_prefilled_and_opened_once(db, settings, users) -> None:
    order = await delivered_order(db, users, NOW)
    task = FollowUpTask(work_order_id=order.id, customer_id=order.customer_id,
                        vehicle_id=order.vehicle_id, due_at=NOW, phone="13800138000")  # fmt: skip
    db.add(task)
    await db.flush()
    attempt = FollowUpAttempt(task_id=task.id, outcome=AttemptOutcome.REACHED.value,
                              comment="洗车没洗干净。", called_at=NOW)  # fmt: skip
    db.add(attempt)
    await db.flush()
    db.add_all([
        FollowUpAnswer(attempt_id=attempt.id, question="ready_on_time", answer=Answer.NO,
                       remark="晚了一个小时"),
        FollowUpAnswer(attempt_id=attempt.id, question="car_clean", answer=Answer.YES),
    ])  # fmt: skip
    await db.flush()
    c = await record.from_call(db, settings, attempt.id, relations(users), NOW)
    assert (c.channel, c.customer_id, c.vehicle_id, c.work_order_id, c.advisor_id) == (
        "follow_up_call", order.customer_id, order.vehicle_id, order.id, users[Role.ADVISOR],
    )  # fmt: skip
    assert c.words == "“车辆是否在约定的时间完工？”：否。晚了一个小时\n洗车没洗干净。"
    assert attempt.complaint_id == c.id
    again = await record.from_call(db, settings, attempt.id, relations(users), NOW)
    assert again.id == c.id
    assert await db.scalar(select(Complaint.id).where(Complaint.id != c.id)) is None


async def test_a_serious_complaint_alerts_every_active_manager_through_the_outbox(
    db, settings, users
) -> None:
    await manager_contact(db, users)
    c = await _received(db, settings, users, severity="serious")
    assert c.manager_alerted_at == NOW
    sent = (await db.scalars(select(OutboundMessage).order_by(OutboundMessage.id))).all()
    assert sorted((m.channel, m.recipient) for m in sent) == [
        ("email", "manager@example.com"), ("sms", "13900139000"),
    ]  # fmt: skip
    assert all(c.number in m.body for m in sent)
    # Serious: one hour to acknowledge, one opening day to close.
    assert local(c.ack_due_at) == at(2026, 12, 2, 18, 0)
    assert local(c.close_due_at) == at(2026, 12, 3, 17, 0)


async def test_a_repeat_on_the_same_car_is_proposed_and_a_threat_escalates(db, settings, users):
    first = await _received(db, settings, users)
    later = NOW + timedelta(days=10)
    assert [c.id for c in await record.repeats(db, first.vehicle_id, later)] == [first.id]
    assert await record.repeats(db, first.vehicle_id, NOW + timedelta(days=91)) == []
    second = await record.create(
        db, settings, relations(users), later, vehicle_id=first.vehicle_id,
        channel="in_person", words="又响了，要找媒体。", severity="general", threat=True,
    )  # fmt: skip
    assert (second.severity, second.manager_alerted_at) == ("escalated", later)


async def test_overdue_complaints_escalate_once(db, settings, users) -> None:
    await manager_contact(db, users)
    c = await _received(db, settings, users)
    assert await alerts.escalate_overdue(db, NOW + timedelta(hours=1), settings) == 0
    late = NOW + timedelta(hours=18)  # past Thursday 09:30, not acknowledged
    assert await alerts.escalate_overdue(db, late, settings) == 1
    assert (c.escalated_at, c.manager_alerted_at) == (late, late)
    assert await alerts.escalate_overdue(db, late + timedelta(hours=1), settings) == 0
    assert len((await db.scalars(select(OutboundMessage))).all()) == 2


async def test_an_advisor_reads_only_their_own_customers_complaints(db, settings, users) -> None:
    c = await _received(db, settings, users)
    assert (await access.readable(db, c.id, advisor(users))).id == c.id
    other = advisor(users).__class__(users[Role.FOREMAN], roles=frozenset({"advisor"}))
    with pytest.raises(NotFound):
        await access.readable(db, c.id, other)
    with pytest.raises(Exception, match="客户关系"):
        await steps.listen(db, c.id, advisor(users), c.version, NOW, words="x",
                           summary={"what": "x"}, read_back=True)  # fmt: skip


async def test_corrective_actions_have_an_owner_and_show_when_overdue(db, settings, users):
    c = await _received(db, settings, users)
    today = NOW.astimezone(SH).date()
    with pytest.raises(InvalidInput) as no_owner:
        await tracking.add_action(db, c.id, manager(users), c.version, NOW, kind="corrective",
                                  description="培训", owner_id="", due_on="2026-12-09",
                                  today=today)  # fmt: skip
    assert no_owner.value.field == "owner_id"
    action = await tracking.add_action(
        db, c.id, manager(users), c.version, NOW, kind="preventive",
        description="刹车装配增加互检", owner_id=str(users[Role.FOREMAN]), due_on="2026-12-04",
        today=today,
    )  # fmt: skip
    assert await tracking.overdue_actions(db, today) == []
    assert [a.id for a in await tracking.overdue_actions(db, today + timedelta(days=3))] == [
        action.id
    ]
    await tracking.action_done(db, c.id, action.id, manager(users), NOW)
    assert await tracking.overdue_actions(db, today + timedelta(days=3)) == []


async def test_the_demo_has_a_complaint_in_every_state(db, settings) -> None:
    from app.demo import complaints as demo_complaints
    from app.demo import data as demo_data

    # The complaints come with the cars on site (make run); here on the static data's visits.
    await demo_data.load(db, settings.tz, now=NOW, on_site=False)
    assert await db.scalar(select(Complaint.id)) is None
    assert await demo_complaints.seed(db, settings.tz, NOW) == 6
    found = (await db.scalars(select(Complaint).order_by(Complaint.id))).all()
    assert [(c.step, c.severity, c.paused_reason) for c in found] == [
        ("listen", "general", ""), ("decide", "general", ""), ("act", "general", "parts"),
        ("listen", "serious", ""), ("closed", "general", ""), ("act", "escalated", ""),
    ]  # fmt: skip
    assert found[3].manager_alerted_at is not None
    kinds = set((await db.scalars(select(ComplaintEvent.kind))).all())
    assert {"sent_back", "closed", "paused", "manager_alerted"} <= kinds
    # The demo's manager has no phone or e-mail: the outbox stays the demo's own.
    assert (await db.scalars(select(OutboundMessage))).all() == []


async def test_the_cli_escalates_overdue_complaints(db, settings, users, monkeypatch) -> None:
    from click.testing import CliRunner

    from app.cli import cli

    c = await _received(db, settings, users, now=NOW - timedelta(days=10))
    await db.commit()
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["complaints", "escalate"])
    assert result.output.strip() == "escalated 1", result.output
    await db.refresh(c)
    assert c.escalated_at is not None


def test_every_history_kind_has_a_label() -> None:
    from app.services.complaints import view
    from app.services.complaints.history import EVENT_KINDS

    assert set(view.labels()["event"]) == set(EVENT_KINDS)


async def test_safety_words_propose_serious_until_it_is(db, settings, users) -> None:
    from app.services.complaints import view

    c = await _received(db, settings, users)
    today = NOW.astimezone(SH).date()
    ctx = await view.context(db, c, relations(users), NOW, today)
    assert ctx["safety"] == ["刹车"]
    await record.raise_severity(db, settings, c, "serious", relations(users), NOW)
    assert (await view.context(db, c, relations(users), NOW, today))["safety"] == []
    assert record.safety_words("Airbag light on after the ACCIDENT") == ["airbag", "accident"]
