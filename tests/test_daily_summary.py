"""The evening summary of 10 November 2026, built from the models on both databases: the
day's figures against the month's targets, the late cars with their reasons, the rework,
the complaint, tomorrow's bookings and the parts to reserve; and the e-mail, once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.i18n import Formatter, locale_as
from app.models import (
    Appointment,
    AppointmentStatus,
    BoardTarget,
    Complaint,
    Customer,
    Dealership,
    Inspection,
    Job,
    OutboundMessage,
    Part,
    PromiseChange,
    Role,
    StaffUser,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services.daily_summary import mail, summary
from tests.monthly_helpers import BEIJING, Visit, a_visit, at, line

DAY = date(2026, 11, 10)
NOW = at(11, 10, 20)  # the evening of the day
FMT = Formatter("Asia/Shanghai", "CNY")


async def _a_car(db, n: int, **order: object) -> WorkOrder:  # type: ignore[no-untyped-def]
    customer = Customer(name=f"车主{n}", phone=f"1380000{n:04d}")
    vehicle = Vehicle(customer=customer, plate=f"粤A{n:05d}", make="BYD", model="Han")
    found = WorkOrder(number=f"WO-D-{n:03d}", customer=customer, vehicle=vehicle, **order)
    db.add(found)
    await db.flush()
    return found


async def _the_day(db, users) -> Dealership:  # type: ignore[no-untyped-def]
    shop = Dealership(code="D1", name="测试店", tax_rate=Decimal("0"))
    db.add(shop)
    db.add(BoardTarget(month="2026-11", code="promise_kept", value=Decimal("80")))
    # Delivered at 18:00, promised for 17:00, no final check on record: late, moved once.
    late = await a_visit(
        db, users, Visit(2, at(11, 10, 18), promised_at=at(11, 10, 17), labour="100.00")
    )
    db.add(PromiseChange(work_order_id=late.id, old_at=at(11, 10, 15), new_at=at(11, 10, 17),
                         reason="等待配件到货"))  # fmt: skip
    # Promised for 15:00, still in the workshop: not ready; and one ready early, not late.
    await _a_car(db, 21, status=WorkOrderStatus.IN_PROGRESS, promised_at=at(11, 10, 15))
    early = await _a_car(db, 22, status=WorkOrderStatus.READY, promised_at=at(11, 10, 12))
    inspector = users[Role.QC_INSPECTOR]
    db.add(Inspection(work_order_id=early.id, inspector_id=inspector, round=1, passed=True,
                      created_at=at(11, 10, 11)))  # fmt: skip
    # A failed final check on the day: a rework.
    redo = await _a_car(db, 23, status=WorkOrderStatus.IN_PROGRESS)
    db.add(Inspection(work_order_id=redo.id, inspector_id=inspector, round=1, passed=False,
                      reason_category="workmanship", note="异响未排除",
                      created_at=at(11, 10, 14)))  # fmt: skip
    # A complaint received on the day, one the day before.
    for n, received in ((1, at(11, 10, 16)), (2, at(11, 9, 16))):
        db.add(Complaint(number=f"TS-{n}", customer_id=late.customer_id, channel="phone",
                         received_at=received, words=f"投诉{n}"))  # fmt: skip
    # Tomorrow: two booked (one with a pre-filled order listing a part), one cancelled;
    # one booked the day after.
    filter_part = Part(number="P-OF", name_zh="机油滤清器", name_en="Oil filter",
                       price=Decimal("45"), stock_on_hand=1)  # fmt: skip
    db.add(filter_part)
    bookings = []
    for n, when, status in (
        (31, at(11, 11, 9), AppointmentStatus.BOOKED),
        (32, at(11, 11, 14), AppointmentStatus.BOOKED),
        (33, at(11, 11, 10), AppointmentStatus.CANCELLED),
        (34, at(11, 12, 9), AppointmentStatus.BOOKED),
    ):
        car = await _a_car(db, n, status=WorkOrderStatus.CHECK_IN)
        appointment = Appointment(
            customer_id=car.customer_id, vehicle_id=car.vehicle_id, scheduled_at=when,
            status=status, requested_work=f"保养{n}",
        )  # fmt: skip
        db.add(appointment)
        await db.flush()
        bookings.append((car, appointment))
    prefilled, booked = bookings[0]
    prefilled.appointment_id = booked.id
    await db.flush()
    part_line = line("part", "P-OF", "2", "45.00")
    part_line.part_id, part_line.name_zh = filter_part.id, "机油滤清器"
    db.add(Job(work_order_id=prefilled.id, title="保养", lines=[part_line]))
    await db.commit()
    return shop


async def test_the_summary_sets_the_days_figures_against_the_months_targets(db, users) -> None:
    shop = await _the_day(db, users)
    found = await summary.build(db, shop, DAY, BEIJING, NOW, FMT)
    rows = {row.code: row for row in found.rows}
    assert (rows["delivered"].value, rows["delivered"].met) == ("1", None)
    kept = rows["promise_kept"]
    assert (kept.value, kept.counts, kept.target, kept.met) == ("0.0%", "0 / 1", "80.0%", False)
    # Two first rounds on the day (the early car passed, the redone one failed).
    assert (rows["rework_rate"].value, rows["rework_rate"].counts) == ("50.0%", "1 / 2")
    assert rows["rework_rate"].met is False
    assert rows["complaints_general"].value == "2"  # both still open at the day's end
    assert [r.code for r in found.missed_targets][:2] == ["promise_kept", "rework_rate"]


async def test_the_late_cars_come_with_the_reasons_recorded(db, users) -> None:
    shop = await _the_day(db, users)
    found = await summary.build(db, shop, DAY, BEIJING, NOW, FMT)
    assert [(c.number, c.ready_at, c.reasons) for c in found.late] == [
        ("WO-D-021", None, ()),
        ("WO-M-002", at(11, 10, 18), ("等待配件到货",)),
    ]
    assert [(r.number, r.reason_category, r.note) for r in found.reworks] == [
        ("WO-D-023", "workmanship", "异响未排除")
    ]
    assert [c.number for c in found.complaints] == ["TS-1"]


async def test_tomorrows_bookings_list_the_parts_to_reserve_against_the_stock(db, users) -> None:
    shop = await _the_day(db, users)
    found = await summary.build(db, shop, DAY, BEIJING, NOW, FMT)
    assert [(b.plate, b.requested_work, b.parts) for b in found.bookings] == [
        ("粤A00031", "保养31", ["机油滤清器 ×2"]),
        ("粤A00032", "保养32", []),
    ]
    [part] = found.parts
    assert (part.code, part.quantity, part.stock, part.short) == ("P-OF", Decimal("2"), 1, True)


async def _outbox(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = await db.execute(select(OutboundMessage.recipient, OutboundMessage.subject))
    return sorted(rows.tuples().all())


async def test_the_summary_goes_once_to_each_manager_in_their_language(db, users, settings) -> None:
    shop = await _the_day(db, users)
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    manager.email = "manager@example.com"
    manager.locale = "en"
    await db.commit()
    sent = await mail.send(db, settings, shop, DAY, NOW)
    assert (sent.to, sent.before) == (["manager@example.com"], [])
    assert await _outbox(db) == [("manager@example.com", "Daily summary 2026-11-10")]
    body = await db.scalar(select(OutboundMessage.body))
    for fact in ("WO-M-002", "等待配件到货", "P-OF", "SHORT", "Off target (4):"):
        assert fact in body
    assert f"{settings.public_url}/board/summary?day=2026-11-10" in body
    with pytest.raises(mail.AlreadySent):
        await mail.send(db, settings, shop, DAY, NOW)
    assert await db.scalar(select(func.count(OutboundMessage.id))) == 1


async def test_a_manager_added_later_still_gets_the_days_summary_in_chinese(
    db, users, settings
) -> None:
    shop = await _the_day(db, users)
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    manager.email = "manager@example.com"
    await db.commit()
    await mail.send(db, settings, shop, DAY, NOW)
    admin = await db.get(StaffUser, users[Role.ADMIN])
    admin.email = "second@example.com"
    from app.models import StaffRole

    db.add(StaffRole(user_id=admin.id, role=Role.SERVICE_MANAGER))
    await db.commit()
    sent = await mail.send(db, settings, shop, DAY, NOW)
    assert (sent.to, sent.before) == (["second@example.com"], ["manager@example.com"])
    with locale_as("zh_CN"):
        chinese = mail.subject(DAY)
    assert await _outbox(db) == [
        ("manager@example.com", chinese), ("second@example.com", chinese),
    ]  # fmt: skip
    assert chinese == "当日总结 2026-11-10"


async def test_without_a_managers_address_nothing_is_queued(db, users, settings) -> None:
    shop = await _the_day(db, users)
    with pytest.raises(mail.NoRecipient):
        await mail.send(db, settings, shop, DAY, NOW)
    assert await _outbox(db) == []


@pytest.mark.parametrize("raw", ["2026-13-01", "yesterday", "10/11/2026", "0001-01-01"])
def test_a_day_that_is_not_a_date_is_refused_on_the_day_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        summary.parse_day(raw, BEIJING, NOW)
    assert refused.value.field == "day"


def test_without_a_day_it_is_today_in_the_dealerships_timezone() -> None:
    assert summary.parse_day("", BEIJING, at(11, 11, 0, 30)) == date(2026, 11, 11)


async def test_a_car_is_late_by_the_time_last_agreed_on_a_call(db, users) -> None:
    shop = Dealership(code="D1", name="测试店", tax_rate=Decimal("0"))
    db.add(shop)
    # Promised for 15:00 at signing, moved to tomorrow on a call: not late today.
    moved_on = await _a_car(db, 41, status=WorkOrderStatus.IN_PROGRESS, promised_at=at(11, 10, 15))
    # Promised for yesterday, moved to 13:00 today, still in the workshop: late today.
    moved_in = await _a_car(db, 42, status=WorkOrderStatus.IN_PROGRESS, promised_at=at(11, 9, 17))
    # Delivered at 16:00, promised for 15:00 then moved to 17:00: on time.
    kept = await a_visit(
        db, users, Visit(43, at(11, 10, 16), promised_at=at(11, 10, 15), labour="100.00")
    )
    db.add_all([
        PromiseChange(work_order_id=moved_on.id, old_at=at(11, 10, 15), new_at=at(11, 11, 12),
                      reason="等待配件", created_at=at(11, 10, 11)),
        PromiseChange(work_order_id=moved_in.id, old_at=at(11, 9, 17), new_at=at(11, 10, 13),
                      reason="加项", created_at=at(11, 9, 16)),
        PromiseChange(work_order_id=kept.id, old_at=at(11, 10, 15), new_at=at(11, 10, 17),
                      reason="客户同意", created_at=at(11, 10, 12)),
    ])  # fmt: skip
    await db.commit()
    found = await summary.build(db, shop, DAY, BEIJING, NOW, FMT)
    assert [(c.number, c.promised_at, c.ready_at, c.reasons) for c in found.late] == [
        ("WO-D-042", at(11, 10, 13), None, ("加项",)),
    ]
