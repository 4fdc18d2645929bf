"""Estimate rules: totals, menu suggestions, promised time, role limits, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.errors import Forbidden, InvalidInput
from app.models import Dealership, Job, JobLine, MenuPackage, Part
from app.services.estimate import editing, menus, pricing, return_visit, terms
from app.services.workshop import promised_time
from tests.estimate_helpers import advisor, manager, order, priced_estimate

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _job(*lines: tuple[str, str, str], warranty: bool = False, declined: bool = False) -> Job:
    return Job(
        title="t",
        warranty=warranty,
        declined_at=datetime(2026, 1, 1, tzinfo=UTC) if declined else None,
        lines=[
            JobLine(kind=kind, code="C", name_zh="", name_en="", quantity=Decimal(q),
                    list_price=Decimal(p), unit_price=Decimal(p))
            for kind, q, p in lines
        ],
    )  # fmt: skip


def test_totals_leave_out_declined_jobs_and_charge_nothing_for_warranty() -> None:
    jobs = [
        _job(("labour", "1.5", "300"), ("part", "2", "48.50")),
        _job(("labour", "1", "300"), warranty=True),
        _job(("part", "1", "720"), declined=True),
    ]
    totals = pricing.compute_totals(jobs, Decimal("17"), Decimal("0.13"))
    assert totals.labour == Decimal("450.00")
    assert totals.parts == Decimal("97.00")
    assert totals.warranty == Decimal("300.00")
    assert totals.subtotal == Decimal("547.00")
    assert totals.tax == Decimal("68.90")  # (547 - 17) * 13 %
    assert totals.total == Decimal("598.90")
    assert totals.hours == Decimal("2.5")


def _package(code: str, km: int) -> MenuPackage:
    return MenuPackage(code=code, name_zh=code, name_en=code, interval_km=km, interval_months=12)


def test_menu_packages_are_suggested_near_their_interval_largest_first() -> None:
    packages = [_package("M-5K", 5000), _package("M-10K", 10000), _package("M-40K", 40000)]
    due = [p.code for p in menus.due_packages(packages, 39_200)]
    assert due == ["M-40K", "M-10K", "M-5K"]
    assert [p.code for p in menus.due_packages(packages, 12_400)] == []
    assert [p.code for p in menus.due_packages(packages, 15_300)] == ["M-5K"]
    assert menus.due_packages(packages, None) == []


def _shop() -> Dealership:
    return Dealership(
        code="x", name="x", workshop_opens="08:30", workshop_closes="18:00",
        technician_hours_per_day=Decimal("7"), handover_minutes=30,
    )  # fmt: skip


def test_the_promised_time_follows_the_workshops_load_and_opening_hours() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    idle = promised_time.Load(4, Decimal("28"), Decimal("0"), Decimal("2"))
    busy = promised_time.Load(4, Decimal("28"), Decimal("30"), Decimal("2"))
    quick = promised_time.schedule(now, _shop(), idle, SHANGHAI).astimezone(SHANGHAI)
    late = promised_time.schedule(now, _shop(), busy, SHANGHAI).astimezone(SHANGHAI)
    assert quick.date() == now.date()
    assert quick > now
    assert quick.minute % 15 == 0
    # 32 workshop hours at 4 technicians x 7/9.5 h an hour do not fit today.
    assert late.date() == date(2026, 11, 24)
    assert datetime.combine(late.date(), datetime.min.time(), SHANGHAI).replace(hour=8) < late
    parts = promised_time.schedule(now, _shop(), idle, SHANGHAI, date(2026, 11, 26))
    assert parts.astimezone(SHANGHAI).date() == date(2026, 11, 26)


async def test_only_a_manager_changes_a_published_price_and_with_a_reason(
    db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    line = (await pricing.order_jobs(db, wo))[0].lines[0]
    with pytest.raises(Forbidden):
        await editing.set_price(db, wo, line.id, "1.00", "朋友", wo.version, advisor(users))
    with pytest.raises(InvalidInput):
        await editing.set_price(db, wo, line.id, "1.00", "", wo.version, manager(users))
    with pytest.raises(InvalidInput):
        await editing.set_price(db, wo, line.id, "-5", "x", wo.version, manager(users))
    with pytest.raises(InvalidInput) as refused:  # a decimal comma is not read as 8000
        await editing.set_price(db, wo, line.id, "80,00", "x", wo.version, manager(users))
    assert refused.value.field == "price"
    # Typed as it is printed: the currency sign is dropped (app.parsing).
    await editing.set_price(db, wo, line.id, "¥80.00", "促销活动", wo.version, manager(users))
    await db.commit()
    wo = await order(db, order_id)
    line = (await pricing.order_jobs(db, wo))[0].lines[0]
    assert (line.unit_price, line.override_reason) == (Decimal("80.00"), "促销活动")


async def test_discounts_are_limited_by_role(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    advisor_limit = await terms.discount_limit(db, wo, advisor(users))
    manager_limit = await terms.discount_limit(db, wo, manager(users))
    assert Decimal(0) < advisor_limit < manager_limit
    over = str(advisor_limit + Decimal("0.01"))
    with pytest.raises(Forbidden):
        await terms.set_discount(db, wo, over, "老客户", wo.version, advisor(users))
    with pytest.raises(InvalidInput):
        await terms.set_discount(db, wo, "-1", "x", wo.version, advisor(users))
    with pytest.raises(InvalidInput):
        await terms.set_discount(db, wo, "1", "", wo.version, advisor(users))
    await terms.set_discount(db, wo, over, "老客户", wo.version, manager(users))
    await db.commit()
    assert (await order(db, order_id)).discount_amount == Decimal(over)


async def test_a_negative_or_zero_quantity_is_refused_and_changes_nothing(
    db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    line = (await pricing.order_jobs(db, wo))[0].lines[0]
    before = line.quantity
    for bad in ("-1", "0", "abc", "1e9", "0.001"):
        with pytest.raises(InvalidInput):
            await editing.set_quantity(db, wo, line.id, bad, wo.version, advisor(users))
    await db.rollback()
    wo = await order(db, order_id)
    assert (await pricing.order_jobs(db, wo))[0].lines[0].quantity == before


async def test_a_part_out_of_stock_is_quoted_with_its_expected_date(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    battery = await db.scalar(select(Part).where(Part.number == "P-BATT"))
    assert battery.stock_on_hand == 0
    job = (await pricing.order_jobs(db, wo))[0]
    today = date(2026, 11, 23)
    line = await editing.add_line(
        db, wo, job.id, "part", battery.id, "1", wo.version, advisor(users), today
    )
    assert line.expected_on == date(2026, 11, 23 + max(battery.lead_time_days, 1))


async def test_a_return_visit_is_booked_for_the_day_the_part_arrives(db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    with pytest.raises(InvalidInput):
        await return_visit.book_return_visit(db, wo, settings.tz, advisor(users))
    battery = await db.scalar(select(Part).where(Part.number == "P-BATT"))
    job = (await pricing.order_jobs(db, wo))[0]
    today = date(2026, 11, 23)
    line = await editing.add_line(
        db, wo, job.id, "part", battery.id, "1", wo.version, advisor(users), today
    )
    first = await return_visit.book_return_visit(db, wo, settings.tz, advisor(users))
    again = await return_visit.book_return_visit(db, wo, settings.tz, advisor(users))
    assert first.id == again.id
    local = first.scheduled_at.astimezone(settings.tz)
    assert local.date() == line.expected_on
    assert local.strftime("%H:%M") == "09:30"
    assert job.title in first.requested_work
