"""The workshop through its services: dispatch, clocked work, the self- and
mutual checks, findings, the foreman's board and its live announcements.

Every refusal is checked for its type, its message, and that the order's
records are as they were (tests.workshop_helpers.refused)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo_data
from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import (
    Inspection,
    Job,
    JobTask,
    Role,
    StaffUser,
    Supplement,
    SupplementStatus,
    TaskStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import board_events
from app.services.estimate import pricing, terms
from app.services.supplements import added_work as supplements
from app.services.workshop import board as workshop_board
from app.services.workshop import jobs as workshop
from app.settings import Settings
from tests.estimate_helpers import advisor, order, signed_order
from tests.workshop_helpers import (
    actor,
    another_technician,
    decide_supplement,
    dispatch_all,
    dispatched,
    draft_supplement,
    every_item_ticked,
    fail_final_check,
    ready,
    refused,
    signed_order_with,
    tasks,
    work_done,
)

NOT_YOURS = "This job is not dispatched to you. Ask the foreman."


def local(moment: datetime, settings: Settings) -> str:
    """A datetime-local input value, as the advisor's tablet posts it."""
    return moment.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")


async def only_task(db: AsyncSession, order_id: int) -> JobTask:
    found = await tasks(db, order_id)
    assert len(found) == 1
    return found[0]


# -- dispatch -----------------------------------------------------------------------


async def test_only_the_foreman_or_manager_dispatches(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    task_id = (await only_task(db, order_id)).id
    for role in (Role.TECHNICIAN, Role.ADVISOR, Role.QC_INSPECTOR):
        who = actor(users, role)
        await refused(
            db, order_id, Forbidden,
            lambda who=who: workshop.dispatch(db, task_id, users[Role.TECHNICIAN], who, utcnow()),
            _("Only the foreman dispatches jobs."),
        )  # fmt: skip
    await workshop.dispatch(
        db, task_id, users[Role.TECHNICIAN], actor(users, Role.SERVICE_MANAGER), utcnow()
    )
    await db.commit()
    task = await only_task(db, order_id)
    assert (task.status, task.technician_id) == ("dispatched", users[Role.TECHNICIAN])
    assert task.dispatched_by_id == users[Role.SERVICE_MANAGER]


async def test_a_job_goes_only_to_an_active_technician(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    inactive = await another_technician(db, "retired")
    retired = await db.get(StaffUser, inactive.user_id)
    assert retired is not None
    retired.is_active = False
    await db.commit()
    task_id = (await only_task(db, order_id)).id
    foreman = actor(users, Role.FOREMAN)
    for target in (users[Role.ADVISOR], users[Role.FOREMAN], inactive.user_id, None, 999_999):
        await refused(
            db, order_id, InvalidInput,
            lambda target=target: workshop.dispatch(db, task_id, target, foreman, utcnow()),
            _("Choose a technician."), field="technician_id",
        )  # fmt: skip


async def test_a_started_job_cannot_be_dispatched_again(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    other = await another_technician(db)
    foreman = actor(users, Role.FOREMAN)
    task_id = (await only_task(db, order_id)).id
    # Not started yet: the foreman may hand it to someone else.
    await workshop.dispatch(db, task_id, other.user_id, foreman, utcnow())
    await workshop.dispatch(db, task_id, users[Role.TECHNICIAN], foreman, utcnow())
    await workshop.start(db, task_id, actor(users, Role.TECHNICIAN), utcnow())
    await db.commit()
    await refused(
        db, order_id, Conflict,
        lambda: workshop.dispatch(db, task_id, other.user_id, foreman, utcnow()),
        _("This job has already been started; it cannot be dispatched again."),
    )  # fmt: skip
    task = await only_task(db, order_id)
    assert (task.status, task.technician_id) == ("in_progress", users[Role.TECHNICIAN])


# -- the technician's own work ----------------------------------------------------------


async def test_a_technician_works_only_on_jobs_dispatched_to_them(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech, other = actor(users, Role.TECHNICIAN), await another_technician(db)
    task_id = (await only_task(db, order_id)).id
    mine = _(NOT_YOURS)

    await refused(db, order_id, Forbidden, lambda: workshop.start(db, task_id, other, utcnow()),
                  mine)  # fmt: skip
    await workshop.start(db, task_id, tech, utcnow())
    await db.commit()
    await refused(db, order_id, Forbidden, lambda: workshop.finish(db, task_id, other, utcnow()),
                  mine)  # fmt: skip
    await workshop.finish(db, task_id, tech, utcnow())
    await db.commit()
    await refused(
        db, order_id, Forbidden, lambda: workshop.self_check(db, task_id, other, utcnow()), mine
    )
    await workshop.self_check(
        db, task_id, tech, utcnow(), form=await every_item_ticked(db, task_id)
    )
    await db.commit()
    task = await only_task(db, order_id)
    assert task.self_checked_at is not None
    assert {e.technician_id for e in task.entries} == {tech.user_id}


async def test_a_job_not_yet_dispatched_cannot_be_started(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    task_id = (await only_task(db, order_id)).id
    await refused(
        db, order_id, Forbidden,
        lambda: workshop.start(db, task_id, actor(users, Role.TECHNICIAN), utcnow()), _(NOT_YOURS),
    )  # fmt: skip


async def test_a_job_is_started_before_it_is_finished(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    task_id = (await only_task(db, order_id)).id
    await refused(
        db, order_id, InvalidInput, lambda: workshop.finish(db, task_id, tech, utcnow()),
        _("This job has not been started. Start it before finishing it."),
    )  # fmt: skip


async def test_a_job_cannot_finish_before_it_started(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    task_id = (await only_task(db, order_id)).id
    started = utcnow()
    await workshop.start(db, task_id, tech, started)
    await db.commit()
    await refused(
        db, order_id, InvalidInput,
        lambda: workshop.finish(db, task_id, tech, started - timedelta(minutes=1)),
        _("A job cannot finish before it started. Check the tablet's clock."),
    )  # fmt: skip
    task = await only_task(db, order_id)
    assert task.status == TaskStatus.IN_PROGRESS.value
    assert [e.finished_at for e in task.entries] == [None]


async def test_the_self_check_comes_after_the_job_is_finished(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    task_id = (await only_task(db, order_id)).id
    not_finished = _("Finish the job before its self-check.")
    await refused(
        db, order_id, InvalidInput, lambda: workshop.self_check(db, task_id, tech, utcnow()),
        not_finished,
    )  # fmt: skip
    await workshop.start(db, task_id, tech, utcnow())
    await db.commit()
    await refused(
        db, order_id, InvalidInput, lambda: workshop.self_check(db, task_id, tech, utcnow()),
        not_finished,
    )  # fmt: skip


async def test_the_mutual_check_is_done_by_someone_who_did_not_do_the_work(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    other = await another_technician(db)
    task_id = (await only_task(db, order_id)).id
    await workshop.start(db, task_id, tech, utcnow())
    await workshop.finish(db, task_id, tech, utcnow())
    await db.commit()
    await refused(
        db, order_id, InvalidInput, lambda: workshop.mutual_check(db, task_id, other, utcnow()),
        _("The technician's self-check comes first."),
    )  # fmt: skip
    await workshop.self_check(
        db, task_id, tech, utcnow(), form=await every_item_ticked(db, task_id)
    )
    await db.commit()

    await refused(
        db, order_id, Forbidden, lambda: workshop.mutual_check(db, task_id, tech, utcnow()),
        _("You worked on this job. The mutual check is done by another technician."),
    )  # fmt: skip
    await refused(
        db, order_id, Forbidden,
        lambda: workshop.mutual_check(db, task_id, advisor(users), utcnow()),
        _("The mutual check is done by another technician or the foreman."),
    )  # fmt: skip

    await workshop.mutual_check(
        db, task_id, other, utcnow(), form=await every_item_ticked(db, task_id)
    )
    await db.commit()
    task = await only_task(db, order_id)
    assert task.mutual_checked_at is not None
    assert task.mutual_checked_by_id == other.user_id
    assert (await order(db, order_id)).status == WorkOrderStatus.QC


async def test_only_the_last_mutual_check_sends_the_car_to_qc(db, settings, users) -> None:
    order_id = await signed_order_with(db, settings, users, second_job=True)
    await dispatch_all(db, users, order_id)
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    first, second = (t.id for t in await tasks(db, order_id))
    for task_id in (first, second):
        await workshop.start(db, task_id, tech, utcnow())
        await workshop.finish(db, task_id, tech, utcnow())
        await workshop.self_check(
            db, task_id, tech, utcnow(), form=await every_item_ticked(db, task_id)
        )
    await workshop.mutual_check(
        db, first, foreman, utcnow(), form=await every_item_ticked(db, first)
    )
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.IN_PROGRESS

    await workshop.mutual_check(
        db, second, foreman, utcnow(), form=await every_item_ticked(db, second)
    )
    await db.commit()
    assert (await order(db, order_id)).status == WorkOrderStatus.QC


async def test_clocked_hours_add_up_every_round_of_work(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    task = await only_task(db, order_id)
    task_id, job_id = task.id, task.job_id
    t0 = utcnow() - timedelta(hours=5)
    await workshop.start(db, task_id, tech, t0)
    await workshop.finish(db, task_id, tech, t0 + timedelta(hours=1))
    await workshop.self_check(
        db, task_id, tech, t0 + timedelta(minutes=65), form=await every_item_ticked(db, task_id)
    )
    await workshop.mutual_check(
        db, task_id, foreman, t0 + timedelta(minutes=70), form=await every_item_ticked(db, task_id)
    )
    await db.commit()
    assert workshop.clocked_hours(await only_task(db, order_id)) == Decimal("1.00")

    await fail_final_check(db, users, order_id, [job_id])
    await workshop.start(db, task_id, tech, t0 + timedelta(hours=2))
    await db.commit()
    task = await only_task(db, order_id)
    assert workshop.clocked_hours(task) == Decimal("1.00")  # the running entry is not counted
    assert workshop.clocked_hours(task, t0 + timedelta(minutes=135)) == Decimal("1.25")

    await workshop.finish(db, task_id, tech, t0 + timedelta(minutes=150))
    await db.commit()
    task = await only_task(db, order_id)
    assert len(task.entries) == 2
    assert workshop.clocked_hours(task) == Decimal("1.50")
    assert workshop.worked_by(task) == {tech.user_id}


async def test_a_stale_version_is_refused(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    task = await only_task(db, order_id)
    task_id, stale = task.id, task.version - 1
    stale_message = _("Someone else changed this job. Reload to see the latest.")
    calls = (
        lambda: workshop.dispatch(db, task_id, tech.user_id, foreman, utcnow(), version=stale),
        lambda: workshop.start(db, task_id, tech, utcnow(), version=stale),
    )
    for call in calls:
        await refused(db, order_id, Conflict, call, stale_message)
    await workshop.start(db, task_id, tech, utcnow(), version=stale + 1)
    await db.commit()
    current = (await only_task(db, order_id)).version
    await refused(
        db, order_id, Conflict,
        lambda: workshop.finish(db, task_id, tech, utcnow(), version=current - 1), stale_message,
    )  # fmt: skip


# -- findings and added work -----------------------------------------------------------


async def test_a_finding_becomes_a_draft_supplement(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    tech, other = actor(users, Role.TECHNICIAN), await another_technician(db)
    await refused(
        db, order_id, Forbidden,
        lambda: workshop.report_finding(db, order_id, "后刹车片磨损", other), _(NOT_YOURS),
    )  # fmt: skip
    for note in ("", "   ", None):
        await refused(
            db, order_id, InvalidInput,
            lambda note=note: workshop.report_finding(db, order_id, note, tech),
            _("Describe what you found."), field="note",
        )  # fmt: skip
    supplement = await workshop.report_finding(
        db, order_id, "  后刹车片\n磨损到极限 ", tech, "brakes"
    )
    supplement_id = supplement.id
    await db.commit()
    await db.rollback()
    found = await db.get(Supplement, supplement_id)
    assert found is not None
    assert found.work_order_id == order_id
    assert found.status == SupplementStatus.DRAFT.value
    assert found.requested_by_id == tech.user_id
    assert found.note == "后刹车片 磨损到极限"


async def test_approved_added_work_opens_tasks_and_sends_a_ready_car_back(
    db, settings, users
) -> None:
    order_id = await ready(db, settings, users)
    before = [(t.id, t.status) for t in await tasks(db, order_id)]
    supplement_id = await draft_supplement(db, users, order_id)
    # Not yet approved: nothing for the workshop, the car stays ready.
    assert [(t.id, t.status) for t in await tasks(db, order_id)] == before
    assert (await order(db, order_id)).status == WorkOrderStatus.READY

    await decide_supplement(db, settings, users, supplement_id)
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.IN_PROGRESS
    after = await tasks(db, order_id)
    assert [(t.id, t.status) for t in after[: len(before)]] == before
    added = after[len(before) :]
    supplement_jobs = (
        await db.scalars(select(Job.id).where(Job.supplement_id == supplement_id))
    ).all()
    assert [t.job_id for t in added] == list(supplement_jobs)
    assert {t.status for t in added} == {TaskStatus.WAITING.value}


async def test_declined_added_work_opens_no_task(db, settings, users) -> None:
    order_id = await ready(db, settings, users)
    count = len(await tasks(db, order_id))
    supplement_id = await draft_supplement(db, users, order_id)
    await decide_supplement(db, settings, users, supplement_id, approve=False)
    assert len(await tasks(db, order_id)) == count
    assert (await order(db, order_id)).status == WorkOrderStatus.READY


# -- the foreman's board ----------------------------------------------------------------


async def test_the_dispatch_queue_puts_rework_then_waiting_customers_then_the_earliest_promise(
    db, settings, users
) -> None:
    # A: rework, promised last. B: the customer waits on site. C and D: neither,
    # C promised before D.
    a = await signed_order_with(db, settings, users, appointment=0,
                                promised_in=timedelta(hours=7))  # fmt: skip
    await dispatch_all(db, users, a)
    await work_done(db, users, a)
    await fail_final_check(db, users, a, [(await tasks(db, a))[0].job_id])
    # Added work approved after the rework: a job of A waits for dispatch.
    await decide_supplement(db, settings, users, await draft_supplement(db, users, a))
    b = await signed_order_with(db, settings, users, appointment=1,
                                promised_in=timedelta(hours=6))  # fmt: skip
    await workshop_board.set_customer_waiting(db, b, True, advisor(users))
    await db.commit()
    c = await signed_order_with(db, settings, users, appointment=2,
                                promised_in=timedelta(hours=3))  # fmt: skip
    d = await signed_order_with(db, settings, users, appointment=3,
                                promised_in=timedelta(hours=4))  # fmt: skip
    ours = (a, b, c, d)

    await db.rollback()
    board = await workshop_board.load(db, settings.tz, now=utcnow())
    assert [card.order.id for card in board.cards if card.order.id in ours] == [a, b, c, d]
    queue = [card.order.id for card, _row in board.queue if card.order.id in ours]
    assert queue == [a, b, c, d]
    assert all(row.waiting for _card, row in board.queue)


async def test_an_order_is_at_risk_when_the_remaining_work_no_longer_fits(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    shop = await pricing.dealership(db)
    handover = timedelta(minutes=shop.handover_minutes)

    async def card_at(now: datetime) -> tuple[workshop_board.Card, workshop_board.Board]:
        await db.rollback()
        board = await workshop_board.load(db, settings.tz, now=now)
        [card] = [c for c in board.cards if c.order.id == order_id]
        return card, board

    card, _board = await card_at(utcnow())
    promised = card.promised_at
    assert promised is not None
    assert card.remaining_hours == Decimal("0.5")  # the oil change's flat-rate time
    needed = timedelta(hours=0.5) + handover

    card, board = await card_at(promised - needed - timedelta(minutes=1))
    assert (card.at_risk, card.overdue) == (False, False)
    assert order_id not in [c.order.id for c in board.at_risk]

    card, board = await card_at(promised - needed + timedelta(minutes=1))
    assert (card.at_risk, card.overdue) == (True, False)
    assert order_id in [c.order.id for c in board.at_risk]

    card, board = await card_at(promised + timedelta(minutes=1))
    assert (card.at_risk, card.overdue) == (False, True)
    assert order_id in [c.order.id for c in board.at_risk]

    # The job done, only the handover remains: the same moment fits again.
    tech = actor(users, Role.TECHNICIAN)
    task_id = (await only_task(db, order_id)).id
    await workshop.start(db, task_id, tech, utcnow())
    await workshop.finish(db, task_id, tech, utcnow())
    await db.commit()
    card, _board = await card_at(promised - needed + timedelta(minutes=1))
    assert card.remaining_hours == Decimal("0")
    assert (card.at_risk, card.overdue) == (False, False)


async def test_a_new_promised_time_is_agreed_by_the_advisor(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    now = utcnow()
    later = local(now + timedelta(hours=9), settings)
    old = (await order(db, order_id)).promised_at
    await refused(
        db, order_id, Forbidden,
        lambda: workshop_board.record_new_time(
            db, order_id, later, "客户同意", settings.tz, actor(users, Role.TECHNICIAN), now
        ),
        _("The service advisor agrees a new time with the customer."),
    )  # fmt: skip
    for past in (now - timedelta(hours=1), now - timedelta(minutes=1)):
        await refused(
            db, order_id, InvalidInput,
            lambda past=past: workshop_board.record_new_time(
                db, order_id, local(past, settings), "客户同意", settings.tz, advisor(users), now
            ),
            _("The new time must be in the future."), field="promised_at",
        )  # fmt: skip
    for reason in ("", "  ", None):
        await refused(
            db, order_id, InvalidInput,
            lambda reason=reason: workshop_board.record_new_time(
                db, order_id, later, reason, settings.tz, advisor(users), now
            ),
            _("Note what the customer was told."), field="reason",
        )  # fmt: skip
    wo = await order(db, order_id)
    assert await workshop_board.promised_at(db, wo) == old

    change = await workshop_board.record_new_time(
        db, order_id, later, "等零件，客户同意晚些取车", settings.tz, advisor(users), now
    )
    await db.commit()
    assert change.old_at == old
    wo = await order(db, order_id)
    assert await workshop_board.promised_at(db, wo) == terms.parse_local_time(later, settings.tz)


async def test_an_approved_supplements_later_time_becomes_the_promise(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    old = (await order(db, order_id)).promised_at
    supplement_id = await draft_supplement(db, users, order_id)
    later = local(utcnow() + timedelta(hours=10), settings)
    supplement, _wo = await supplements.get(db, supplement_id)
    await supplements.set_promised_at(db, supplement, later, settings.tz, advisor(users), utcnow())
    await db.commit()
    # Proposed, not agreed: the order's time stands.
    assert await workshop_board.promised_at(db, await order(db, order_id)) == old

    await decide_supplement(db, settings, users, supplement_id)
    wo = await order(db, order_id)
    assert await workshop_board.promised_at(db, wo) == terms.parse_local_time(later, settings.tz)


async def test_added_work_agreed_after_a_new_time_sets_the_promise(db, settings, users) -> None:
    """The promise is the time last agreed with the customer: added work they
    approve after a recorded new time, with a later time of its own, moves it on."""
    order_id, _sig = await signed_order(db, settings, users)
    now = utcnow()
    agreed = local(now + timedelta(hours=6), settings)
    await workshop_board.record_new_time(
        db, order_id, agreed, "等零件，客户同意", settings.tz, advisor(users), now
    )
    await db.commit()
    supplement_id = await draft_supplement(db, users, order_id)
    later = local(now + timedelta(hours=10), settings)
    supplement, _wo = await supplements.get(db, supplement_id)
    await supplements.set_promised_at(db, supplement, later, settings.tz, advisor(users), now)
    await db.commit()
    await decide_supplement(db, settings, users, supplement_id)
    wo = await order(db, order_id)
    assert await workshop_board.promised_at(db, wo) == terms.parse_local_time(later, settings.tz)


async def test_first_time_fix_counts_only_first_inspections(db, settings, users) -> None:
    await demo_data.load(db, settings.tz, on_site=False)
    orders = (await db.scalars(select(WorkOrder.id).order_by(WorkOrder.id).limit(3))).all()
    now = utcnow()
    qc = users[Role.QC_INSPECTOR]
    rows = [
        (orders[0], 1, True, now - timedelta(days=1)),
        (orders[1], 1, False, now - timedelta(days=2)),
        (orders[1], 2, True, now - timedelta(days=1)),  # passed, but at the second attempt
        (orders[2], 1, True, now - timedelta(days=40)),  # outside the period
    ]
    db.add_all(
        Inspection(work_order_id=o, inspector_id=qc, round=r, passed=p, created_at=at)
        for o, r, p, at in rows
    )
    await db.commit()
    fix = await workshop_board.first_time_fix(db, now - timedelta(days=30), now)
    assert (fix.inspected, fix.passed_first_time) == (2, 1)
    assert fix.rate == 0.5
    assert (await workshop_board.first_time_fix(db, now, now)).rate is None


# -- the live board --------------------------------------------------------------------


async def test_a_committed_change_is_announced_once(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    task_id = (await only_task(db, order_id)).id
    broker = board_events.broker
    with broker.subscribe() as queue:
        sequence = broker.sequence
        await workshop.dispatch(
            db, task_id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
        )
        await workshop_board.set_customer_waiting(db, order_id, True, advisor(users))
        assert queue.qsize() == 0  # not before the commit
        await db.commit()
        assert queue.qsize() == 1
        assert queue.get_nowait() == broker.version == str(sequence + 1)
        assert broker.sequence == sequence + 1  # two changes, one transaction: one reload
        await db.commit()  # nothing new to say
        assert queue.qsize() == 0
    assert queue not in broker._queues


async def test_a_rolled_back_change_announces_nothing(db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    task_id = (await only_task(db, order_id)).id
    broker = board_events.broker
    with broker.subscribe() as queue:
        sequence = broker.sequence
        await workshop.dispatch(
            db, task_id, users[Role.TECHNICIAN], actor(users, Role.FOREMAN), utcnow()
        )
        await db.rollback()
        # A later commit of other work does not carry the forgotten change along.
        wo = await order(db, order_id)
        wo.customer_waiting = True
        await db.commit()
        assert queue.qsize() == 0
        assert broker.sequence == sequence
    assert (await only_task(db, order_id)).status == TaskStatus.WAITING.value
