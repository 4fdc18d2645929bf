"""Follow-up calls through their services: the queue's order, the record beside each
question and its verdict, outcomes and retries, and refusals that change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import Formatter, locale_as
from app.models import (
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    PhotoStage,
    Role,
    WorkOrder,
)
from app.models.base import utcnow
from app.services.estimate import pricing
from app.services.follow_ups import calls, dormant, evidence
from app.services.follow_ups import queue as fu_queue
from app.services.photos import receive as photos
from app.settings import Settings
from tests.test_delivery import ready_to_sign, sign
from tests.workshop_helpers import actor, add_photo, check_in_of, ready_with

Users = dict[Role, int]


def fmt(settings: Settings) -> Formatter:
    return Formatter(settings.timezone, settings.currency)


async def delivered(
    db: AsyncSession, settings: Settings, users: Users, **choices: Any
) -> FollowUpTask:
    """An order taken through the workshop and delivered: its follow-up task; committed."""
    order_id = await ready_to_sign(db, settings, users, **choices)
    check_in = await check_in_of(db, order_id)
    for seed, position in enumerate(choices.get("photo_positions", ())):
        target = photos.Target(stage=PhotoStage.DELIVERY)
        await add_photo(db, settings, users, check_in, position, target, seed=seed + 20)
    await sign(db, settings, users, order_id)
    await db.commit()
    task = await db.scalar(select(FollowUpTask).where(FollowUpTask.work_order_id == order_id))
    assert task is not None
    return task


async def order(db: AsyncSession, order_id: int | None) -> WorkOrder:
    found = await db.get(WorkOrder, order_id)
    assert found is not None
    return found


def relations(users: Users) -> Any:
    return actor(users, Role.CUSTOMER_RELATIONS)


def answered(**given: str) -> dict[str, str]:
    return dict.fromkeys(evidence_codes(), "yes") | given


def evidence_codes() -> tuple[str, ...]:
    from app.services.follow_ups.questions import QUESTIONS

    return QUESTIONS


def reached(
    answers: dict[str, str], remarks: dict[str, str] | None = None, **more: Any
) -> calls.CallForm:
    fields: dict[str, Any] = {"satisfaction": "4", "spoke_with": "user"} | more
    return calls.CallForm(outcome="reached", answers=answers, remarks=remarks or {}, **fields)


def log(
    db: AsyncSession,
    settings: Settings,
    users: Users,
    task: FollowUpTask,
    call: calls.CallForm,
    now: datetime | None = None,
    version: int | None = None,
) -> Any:
    return calls.log_attempt(
        db, task, call, actor=relations(users), now=now or utcnow(), fmt=fmt(settings),
        version=version,
    )  # fmt: skip


async def attempts(db: AsyncSession, task_id: int) -> int:
    return (
        await db.scalar(
            select(func.count(FollowUpAttempt.id)).where(FollowUpAttempt.task_id == task_id)
        )
        or 0
    )


async def fresh(db: AsyncSession, task_id: int) -> FollowUpTask:
    db.expire_all()
    task = await db.get(FollowUpTask, task_id)
    assert task is not None
    return task


# -- the record beside each question -----------------------------------------------------


async def test_the_record_of_a_delivered_order_answers_each_question(db, settings, users) -> None:
    task = await delivered(db, settings, users, photo_positions=("front", "rear"))
    wo = await order(db, task.work_order_id)
    f = fmt(settings)
    with locale_as("en"):
        found = await evidence.for_order(db, wo, f)
        promised = f.time(wo.promised_at)
    assert {code: e.fact for code, e in found.items()} == {
        "greeted_promptly": True, "walkaround": True, "estimate_before_work": True,
        "ready_on_time": True, "work_as_agreed": True, "explained_at_delivery": True,
        "car_clean": True, "advice_given": True, "earlier_issues_resolved": None,
        "appointment_ready": True,
    }  # fmt: skip
    assert wo.promised_at is not None
    assert found["ready_on_time"].sentence.startswith(f"Promised {promised}, ready ")
    assert found["walkaround"].sentence.endswith(
        "2 walkaround photos from " + found["walkaround"].sentence.split(" from ")[-1]
    )
    assert found["car_clean"].sentence == "Final check ticked: washed, covers removed."
    assert found["work_as_agreed"].sentence == "Final check passed first time."
    bill = found["explained_at_delivery"].sentence
    assert bill.startswith("Bill ¥")
    assert " = estimate ¥" in bill


async def test_without_walkaround_photos_a_yes_is_unsupported(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    wo = await order(db, task.work_order_id)
    found = await evidence.for_order(db, wo, fmt(settings))
    assert found["walkaround"].fact is False
    assert evidence.verdict("yes", found["walkaround"].fact) == "unsupported"
    assert evidence.verdict("no", found["car_clean"].fact) == "contradicts"
    assert evidence.verdict("yes", found["car_clean"].fact) == "supports"
    assert evidence.verdict("no", found["earlier_issues_resolved"].fact) == ""
    assert evidence.verdict("not_asked", True) == ""


# -- outcomes ---------------------------------------------------------------------------


async def test_a_reached_call_keeps_answers_beside_the_record(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    wo = await order(db, task.work_order_id)
    noted = await evidence.for_order(db, wo, fmt(settings))
    now = utcnow()
    attempt = await log(db, settings, users, tid, reached(
        answered(car_clean="no", appointment_ready="not_asked"),
        {"car_clean": "座椅上有油污"}, comment="服务顾问很耐心",
    ), now=now)  # fmt: skip
    await db.commit()
    attempt_id = attempt.id
    task = await fresh(db, tid)
    assert (task.status, task.closed_at) == ("reached", now)
    stored = await db.get(FollowUpAttempt, attempt_id)
    assert stored is not None
    assert (stored.outcome, stored.spoke_with, stored.satisfaction, stored.scale) == (
        "reached",
        "user",
        4,
        5,
    )
    rows = {
        a.question: a
        for a in (
            await db.scalars(select(FollowUpAnswer).where(FollowUpAnswer.attempt_id == attempt.id))
        ).all()
    }
    assert len(rows) == 10
    assert (rows["car_clean"].answer, rows["car_clean"].remark) == ("no", "座椅上有油污")
    assert rows["car_clean"].record_verdict == "contradicts"
    assert rows["car_clean"].record_note == noted["car_clean"].sentence
    assert rows["walkaround"].record_verdict == "unsupported"  # no walkaround photos
    assert rows["greeted_promptly"].record_verdict == "supports"
    assert rows["appointment_ready"].answer == "not_asked"
    assert rows["appointment_ready"].record_verdict == ""


async def test_a_no_without_a_remark_is_refused_and_nothing_changes(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    before = (task.status, task.due_at, task.version)
    with pytest.raises(InvalidInput) as refused:
        await log(db, settings, users, tid, reached(answered(ready_on_time="no")))
    assert refused.value.field == "remark_ready_on_time"
    await db.rollback()
    task = await fresh(db, tid)
    assert (task.status, task.due_at, task.version) == before
    assert await attempts(db, tid) == 0


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"satisfaction": "6"}, "satisfaction"),
        ({"satisfaction": ""}, "satisfaction"),
        ({"spoke_with": "neighbour"}, "spoke_with"),
    ],
)
async def test_reached_needs_who_answered_and_a_satisfaction_on_the_scale(
    db, settings, users, given, field
) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    with pytest.raises(InvalidInput) as refused:
        await log(db, settings, users, tid, reached(answered(), **given))
    assert refused.value.field == field
    await db.rollback()
    assert await attempts(db, tid) == 0


async def test_a_ten_point_scale_takes_zero(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    (await pricing.dealership(db)).follow_up_scale = 10
    await db.commit()
    attempt = await log(db, settings, users, tid, reached(answered(), satisfaction="0"))
    assert (attempt.satisfaction, attempt.scale) == (0, 10)


async def test_not_convenient_moves_the_call_to_the_customers_time(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid, deadline = task.id, task.deadline_at
    now = utcnow()
    later = (now + timedelta(days=1)).astimezone(settings.tz).replace(second=0, microsecond=0)
    with pytest.raises(InvalidInput) as refused:
        await log(db, settings, users, tid, calls.CallForm(outcome="not_convenient"))
    assert refused.value.field == "next_call_at"
    past = (now - timedelta(hours=1)).astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
    with pytest.raises(InvalidInput):
        await log(
            db, settings, users, tid, calls.CallForm(outcome="not_convenient", next_call_at=past)
        )
    await db.rollback()
    task = await fresh(db, tid)
    call = calls.CallForm(outcome="not_convenient", next_call_at=later.strftime("%Y-%m-%dT%H:%M"))
    attempt = await log(db, settings, users, tid, call, now=now)
    await db.commit()
    assert attempt.next_call_at == later
    task = await fresh(db, tid)
    assert task.status == "open"
    assert task.due_at == later
    # The deadline the report counts against stays where delivery put it.
    assert task.deadline_at == deadline != later


async def test_no_answer_is_retried_the_next_morning_then_closed_as_unreachable(
    db, settings, users
) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    task.preferred_when = "morning"
    await db.commit()
    assert (await pricing.dealership(db)).follow_up_max_attempts == 3
    now = datetime(2026, 12, 2, 7, 0, tzinfo=settings.tz)
    await log(db, settings, users, tid, calls.CallForm(outcome="no_answer"), now=now)
    await db.commit()
    task = await fresh(db, tid)
    assert (task.status, task.due_at) == ("open", datetime(2026, 12, 3, 9, 0, tzinfo=settings.tz))
    await log(db, settings, users, tid, calls.CallForm(outcome="wrong_number"), now=now)
    await db.commit()
    task = await fresh(db, tid)
    assert task.status == "open"
    await log(db, settings, users, tid, calls.CallForm(outcome="no_answer"), now=now)
    await db.commit()
    task = await fresh(db, tid)
    assert (task.status, task.closed_at) == ("unreachable", now)
    assert await attempts(db, tid) == 3
    with pytest.raises(Conflict):
        await log(db, settings, users, tid, calls.CallForm(outcome="no_answer"))


async def test_a_stale_form_is_refused(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    tid = task.id
    seen = task.version
    await log(db, settings, users, tid, calls.CallForm(outcome="no_answer"), version=seen)
    await db.commit()
    task = await fresh(db, tid)
    assert task.version == seen + 1
    with pytest.raises(Conflict):
        await log(db, settings, users, tid, reached(answered()), version=seen)
    await db.rollback()
    assert await attempts(db, tid) == 1


async def test_a_call_about_an_order_not_yet_delivered_is_refused(db, settings, users) -> None:
    order_id = await ready_with(db, settings, users)
    wo = await order(db, order_id)
    task = FollowUpTask(
        work_order_id=order_id, customer_id=wo.customer_id, vehicle_id=wo.vehicle_id,
        reason=FollowUpReason.REWORK.value, due_at=utcnow(), contact_name=wo.customer.name,
    )  # fmt: skip
    db.add(task)
    await db.commit()
    tid = task.id
    with pytest.raises(Conflict):
        await log(db, settings, users, tid, reached(answered()))
    await db.rollback()
    assert await attempts(db, tid) == 0
    assert (await fresh(db, tid)).status == "open"


async def test_a_complaint_call_asks_only_whether_the_customer_is_satisfied(
    db, settings, users
) -> None:
    task = FollowUpTask(
        reason=FollowUpReason.COMPLAINT.value, due_at=utcnow(), contact_name="王先生"
    )
    db.add(task)
    await db.commit()
    tid = task.id
    with pytest.raises(InvalidInput) as refused:
        await log(db, settings, users, tid, calls.CallForm(outcome="reached", spoke_with="owner"))
    assert refused.value.field == "satisfied"
    await db.rollback()
    task = await fresh(db, tid)
    attempt = await log(db, settings, users, tid, calls.CallForm(
        outcome="reached", spoke_with="owner", satisfied="no", comment="还是有异响",
    ))  # fmt: skip
    await db.commit()
    assert attempt.satisfied is False
    assert attempt.satisfaction is None
    assert (
        await db.scalar(
            select(func.count(FollowUpAnswer.id)).where(FollowUpAnswer.attempt_id == attempt.id)
        )
        == 0
    )


# -- the queue ------------------------------------------------------------------------


async def test_the_queue_orders_by_day_rework_and_the_preferred_window(db, settings) -> None:
    tz = settings.tz
    now = datetime(2026, 12, 2, 10, 0, tzinfo=tz)  # a morning
    made = {
        "late": FollowUpTask(due_at=now - timedelta(days=1), contact_name="late"),
        "evening": FollowUpTask(due_at=now + timedelta(hours=1), preferred_when="evening",
                                contact_name="evening"),
        "any": FollowUpTask(due_at=now + timedelta(hours=3), preferred_when="", contact_name="any"),
        "morning": FollowUpTask(due_at=now + timedelta(hours=5), preferred_when="morning",
                                contact_name="morning"),
        "rework": FollowUpTask(due_at=now + timedelta(hours=6), preferred_when="evening",
                               reason=FollowUpReason.REWORK.value, contact_name="rework"),
        "tomorrow": FollowUpTask(due_at=now + timedelta(days=1), preferred_when="morning",
                                 contact_name="tomorrow"),
        "declined": FollowUpTask(due_at=now, status=FollowUpStatus.DECLINED.value,
                                 call_allowed=False, contact_name="declined"),
        "done": FollowUpTask(due_at=now, status=FollowUpStatus.REACHED.value, closed_at=now,
                             contact_name="done"),
    }  # fmt: skip
    db.add_all(made.values())
    await db.commit()
    q = await fu_queue.load(db, now, tz)
    assert [r.task.contact_name for r in q.rows] == ["late", "rework", "morning", "any", "evening"]
    assert [r.overdue for r in q.rows] == [True, False, False, False, False]
    assert (q.due, q.overdue, q.upcoming, q.declined, q.done) == (4, 1, 1, 1, 1)
    assert await fu_queue.counts(db, now, tz) == fu_queue.Counts(due=4, overdue=1)
    upcoming = await fu_queue.load(db, now, tz, "upcoming")
    assert [r.task.contact_name for r in upcoming.rows] == ["tomorrow"]
    declined = await fu_queue.load(db, now, tz, "declined")
    assert [r.task.contact_name for r in declined.declined_rows] == ["declined"]
    done = await fu_queue.load(db, now, tz, "done")
    assert [r.task.contact_name for r in done.rows] == ["done"]
    # In the evening, the evening-preferring customer comes first among today's calls.
    evening = await fu_queue.load(db, now.replace(hour=19), tz)
    names = [r.task.contact_name for r in evening.rows]
    assert names.index("evening") < names.index("any") < names.index("morning")


async def test_customers_not_seen_for_months_are_added_once(db, settings, users) -> None:
    task = await delivered(db, settings, users)
    wo = await order(db, task.work_order_id)
    # Whatever older visits the helpers made are added first; this car was seen today.
    await dormant.create_dormant_tasks(db, utcnow(), relations(users))
    await db.commit()
    visits = (
        await db.scalars(select(WorkOrder).where(WorkOrder.vehicle_id == wo.vehicle_id))
    ).all()
    for visit in visits:
        if visit.delivered_at:
            visit.delivered_at -= timedelta(days=400)
    await db.commit()
    assert await dormant.create_dormant_tasks(db, utcnow(), relations(users)) == 1
    await db.commit()
    assert await dormant.create_dormant_tasks(db, utcnow(), relations(users)) == 0
    added = await db.scalar(
        select(FollowUpTask).where(
            FollowUpTask.reason == FollowUpReason.DORMANT.value, FollowUpTask.work_order_id == wo.id
        )
    )
    assert added is not None
    assert (added.work_order_id, added.status, added.phone) == (wo.id, "open", task.phone)
