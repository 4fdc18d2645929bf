"""The demo's two months of history (app/demo/history/month.py): loaded once on top of the
demo, only before today, with the counts and the misses it promises, every record it
signed verified by the app, and the cars due for service the reminders list."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo_data
from app.demo.history import month
from app.models import (
    Base,
    CheckIn,
    Delivery,
    FollowUpAttempt,
    FollowUpTask,
    Inspection,
    OutboundMessage,
    PromiseChange,
    ReminderContact,
    Signature,
    Supplement,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.delivery.bill import bill
from app.services.lane_board.board import day_bounds
from app.services.reminders.response import response_rate
from app.services.reports import period as report_period
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.settings import Settings


async def _rows(db: AsyncSession) -> dict[str, int]:
    out = {}
    for table in Base.metadata.sorted_tables:
        out[table.name] = await db.scalar(select(func.count()).select_from(table)) or 0
    return out


async def _open_calls(db: AsyncSession) -> list[int]:
    return list(
        (await db.scalars(select(FollowUpTask.id).where(FollowUpTask.status == "open"))).all()
    )


async def _today(db: AsyncSession, settings: Settings, now: datetime) -> list[str]:
    start, _end = day_bounds(now, settings.tz)
    return sorted(
        (await db.scalars(select(WorkOrder.number).where(WorkOrder.created_at >= start))).all()
    )


def _share(part: int, whole: int) -> float:
    return 100 * part / whole


async def test_two_months_of_history_load_once_with_the_misses_a_real_month_has(
    db: AsyncSession, settings: Settings
) -> None:
    now = utcnow()
    store = open_store(settings)
    await demo_data.load(db, settings.tz, now=now, store=store)
    await db.commit()
    calls_before, today_before = await _open_calls(db), await _today(db, settings, now)
    started = time.perf_counter()
    counts = await month.month(db, settings.tz, now, settings.currency, store)
    await db.commit()
    seconds = time.perf_counter() - started
    print(f"history: {seconds:.1f} s, {sum(counts.values())} rows: {dict(counts)}")
    assert counts["work_order"] > 500
    rows = await _rows(db)

    # Once: a second load (as `serve --demo` does each start) adds nothing.
    assert await month.month(db, settings.tz, now, settings.currency, store) == Counter()
    await demo_data.load(db, settings.tz, now=now, store=store, history=True)
    await db.commit()
    assert await _rows(db) == rows
    # Today is the demo's own: the lane, the workshop and the follow-up queue unchanged.
    assert await _today(db, settings, now) == today_before
    assert await _open_calls(db) == calls_before

    today = now.astimezone(settings.tz).date()
    first = today - timedelta(days=month.DAYS)
    orders = (
        await db.scalars(select(WorkOrder).where(WorkOrder.number.contains(month.MARK)))
    ).all()
    assert {o.status for o in orders} == {WorkOrderStatus.DELIVERED, WorkOrderStatus.CANCELLED}
    check_ins = {
        c.work_order_id: c
        for c in (
            await db.scalars(
                select(CheckIn).join(WorkOrder).where(WorkOrder.number.contains(month.MARK))
            )
        ).all()
    }
    local_day = {o.id: check_ins[o.id].arrived_at.astimezone(settings.tz).date() for o in orders}
    assert max(local_day.values()) < today
    assert all(o.delivered_at is None or o.delivered_at < now for o in orders)
    recent = [o for o in orders if local_day[o.id] >= first]
    assert len({o.advisor_id for o in orders}) == 1  # the demo's own staff
    await _days_greetings_and_check_ins(first, recent, local_day, check_ins)
    added = await _promises_reworks_and_bills(db, recent)
    await _calls(db, now, first, local_day)
    # Every record the history signed is the one the app rebuilds from its rows.
    signed_rows = (
        await db.scalars(select(Signature).where(Signature.device_id == month.DEVICE))
    ).all()
    assert len(signed_rows) == 2 * len([o for o in orders if o.delivered_at]) + len(added)
    for record in signed_rows:
        check = await signatures.verify(db, record, settings.currency)
        assert check.intact, (record.kind, record.work_order_id, check.differences[:3])
    await _cars_due_for_service(db, settings, today, orders, check_ins)
    await _reminders_answered(db, settings, today, counts["reminder_contact"])


async def _reminders_answered(db: AsyncSession, settings: Settings, today: date, sent: int) -> None:
    """Reminders went out by SMS in the months, each with its message in the outbox, and
    some of the cars came in after theirs: the monthly report has a response rate."""
    assert sent > 20
    contacts = (await db.scalars(select(ReminderContact))).all()
    assert len(contacts) >= sent
    messages = {m.id: m for m in (await db.scalars(select(OutboundMessage))).all()}
    assert all(c.message_id in messages for c in contacts if c.action == "sent")
    first = today - timedelta(days=month.DAYS)
    reminded, came_in, percent = await response_rate(
        db, report_period.days(first, today - timedelta(days=1), settings.tz)
    )
    assert reminded >= sent - 6  # the demo's own reminder cars aside
    assert 0 < came_in < reminded
    assert percent is not None
    assert 30 < percent < 80


async def _days_greetings_and_check_ins(
    first: date, recent: list[WorkOrder], local_day: dict[int, date],
    check_ins: dict[int, CheckIn],
) -> None:  # fmt: skip
    per_day = Counter(local_day[o.id] for o in recent)
    assert sorted(per_day) == [first + timedelta(days=n) for n in range(month.DAYS)]
    for day, n in per_day.items():
        low, high = (8, 14) if day.weekday() < 5 else (4, 7) if day.weekday() == 5 else (2, 4)
        assert low <= n <= high, (day, n)
    # Booked, greeted, checked in.
    booked = sum(o.appointment_id is not None for o in recent)
    assert 50 <= _share(booked, len(recent)) <= 70
    waits = [check_ins[o.id].started_at - check_ins[o.id].arrived_at for o in recent]
    in_time = sum(w <= timedelta(minutes=5) for w in waits)
    assert 75 <= _share(in_time, len(recent)) <= 95
    assert max(waits) <= timedelta(minutes=15)
    lengths = [check_ins[o.id].completed_at - check_ins[o.id].started_at for o in recent]
    assert timedelta(minutes=15) <= min(lengths) <= max(lengths) <= timedelta(minutes=40)


async def _promises_reworks_and_bills(db: AsyncSession, recent: list[WorkOrder]) -> set[int]:
    """Ready after the time agreed (the last, after a call), reworks, bills beyond the
    estimate; returns the orders with added work."""
    delivered = [o for o in recent if o.status == WorkOrderStatus.DELIVERED]
    inspections: dict[int, list[Inspection]] = defaultdict(list)
    for i in (await db.scalars(select(Inspection).order_by(Inspection.round))).all():
        inspections[i.work_order_id].append(i)
    changes = {c.work_order_id: c.new_at for c in (await db.scalars(select(PromiseChange))).all()}
    late = []
    for o in delivered:
        ready = next(i.created_at for i in inspections[o.id] if i.passed)
        assert o.promised_at is not None
        if ready > changes.get(o.id, o.promised_at):
            late.append(o.id)
    assert 5 <= _share(len(late), len(delivered)) <= 15
    assert 3 <= len(set(late) & set(changes)) < len(late)  # some moved by a call, missed too
    reworked = [o for o in delivered if not inspections[o.id][0].passed]
    assert 1.5 <= _share(len(reworked), len(delivered)) <= 7
    assert all(o.rework_count == 1 for o in reworked)
    assert all(inspections[o.id][0].reason_category and inspections[o.id][0].note for o in reworked)
    added = set((await db.scalars(select(Supplement.work_order_id))).all())
    beyond = [o for o in delivered if o.id in added]
    assert 4 <= _share(len(beyond), len(delivered)) <= 12
    for o in beyond[:10]:
        st = await bill(db, o)
        assert st.matches  # what was signed for: the estimate and the approved work
        signed = await signatures.work_order_signature(db, o)
        assert signed is not None
        estimate = Decimal(json.loads(signed.content)["totals"]["total"])
        assert st.current_total - estimate > estimate * Decimal("0.05")
    return added


async def _calls(db: AsyncSession, now: datetime, first: date, local_day: dict[int, date]) -> None:
    """The follow-up calls: all made and closed, most by their due time."""
    tasks = (
        await db.scalars(
            select(FollowUpTask).join(WorkOrder).where(WorkOrder.number.contains(month.MARK))
        )
    ).all()
    assert {t.status for t in tasks} == {"reached", "declined"}
    firsts = dict(
        (
            await db.execute(
                select(FollowUpAttempt.task_id, func.min(FollowUpAttempt.called_at)).group_by(
                    FollowUpAttempt.task_id
                )
            )
        ).all()
    )
    due = [
        t
        for t in tasks
        if t.call_allowed and t.due_at < now and local_day[t.work_order_id] >= first
    ]
    on_time = sum(firsts[t.id] <= t.due_at for t in due)
    assert 75 <= _share(on_time, len(due)) <= 95
    assert all(firsts[t.id] < now for t in tasks if t.id in firsts)


async def _cars_due_for_service(
    db: AsyncSession, settings: Settings, today: date, orders: list[WorkOrder],
    check_ins: dict[int, CheckIn],
) -> None:  # fmt: skip
    """40 cars last serviced 5-12 months ago, due from 20 days ago to 45 days ahead, each
    with two readings so its mileage can be projected; a few dates of 年检 and insurance."""
    by_car: dict[int, list[WorkOrder]] = defaultdict(list)
    for o in orders:
        by_car[o.vehicle_id].append(o)
    deliveries = {d.work_order_id: d for d in (await db.scalars(select(Delivery))).all()}
    due = []
    for car, visits in by_car.items():
        last = max(visits, key=lambda o: check_ins[o.id].arrived_at)
        if last.delivered_at is None:
            continue  # cancelled at the check-in
        ago = (today - last.delivered_at.astimezone(settings.tz).date()).days
        handed = deliveries[last.id]
        if 150 <= ago <= 365:
            assert handed.next_service_on is not None
            assert -20 <= (handed.next_service_on - today).days <= 45
            readings = sorted((check_ins[o.id].arrived_at, check_ins[o.id].odometer_km)
                              for o in visits)  # fmt: skip
            assert len(readings) == 2
            assert readings[0][1] < readings[1][1] < (handed.next_service_km or 0)
            vehicle = await db.get(Vehicle, car)
            assert vehicle is not None
            assert vehicle.last_odometer_km == readings[-1][1]
            due.append(car)
    assert len(due) == month.OLDER
    # Only their last visits are due now (the earlier ones were due when they came again).
    recent_due = await db.scalar(
        select(func.count(Delivery.id))
        .join(WorkOrder, WorkOrder.id == Delivery.work_order_id)
        .where(
            WorkOrder.number.contains(month.MARK),
            Delivery.next_service_on.between(
                today - timedelta(days=20), today + timedelta(days=45)
            ),
        )
    )
    assert recent_due == month.OLDER
    soon = today + timedelta(days=45)
    inspected = await db.scalar(
        select(func.count(Vehicle.id)).where(Vehicle.inspection_due_on.between(today, soon))
    )
    insured = await db.scalar(
        select(func.count(Vehicle.id)).where(Vehicle.insurance_due_on.between(today, soon))
    )
    assert (inspected or 0) >= 5
    assert (insured or 0) >= 5
