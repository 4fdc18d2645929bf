"""The monthly report's CSI evidence per seed question, counted for a small November on
both databases: three orders delivered in the month, one the day before it began and one
just after it ended (by Beijing's clock, not UTC's)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event

from app.models import Dealership
from app.services.reports import monthly_evidence
from app.services.reports import period as report_period
from tests.monthly_helpers import BEIJING, Visit, a_visit, at

NOVEMBER = report_period.month_period(2026, 11, BEIJING)


async def _november(db, users):  # type: ignore[no-untyped-def]
    shop = Dealership(code="D1", name="Test", tax_rate=Decimal("0"))
    db.add(shop)
    visits = [
        # Everything proved; delivered at 00:30 on 1 November in Beijing (31 October in UTC).
        Visit(
            1,
            at(11, 1, 0, 30),
            signed_at=at(10, 31, 9),
            first_clock=at(10, 31, 10),
            promised_at=at(10, 31, 17),
            passed_at=at(10, 31, 16),
            deadline_at=at(11, 4, 18),
            first_call=at(11, 3, 9),
        ),
        # Three covers only; work clocked before the signature; ready late (no final check,
        # delivered after the promise); bill 104 against 100 (within 5 %); called late.
        Visit(
            2,
            at(11, 10, 18),
            covers=3,
            signed_at=at(11, 10, 11),
            first_clock=at(11, 10, 10),
            promised_at=at(11, 10, 17),
            labour="104.00",
            deadline_at=at(11, 13, 18),
            first_call=at(11, 14, 9),
        ),
        # Covers but no photo; signed, nothing clocked; no promised time; an approved
        # supplement takes the bill to 110 (beyond 5 %); no call.
        Visit(3, at(11, 20, 18), photo=False, approved_extra="10.00"),
        # Outside the month: the last evening of October, the first minutes of December.
        Visit(4, at(10, 31, 23, 30), signed_at=at(10, 31, 9), promised_at=at(10, 31, 23, 59)),
        Visit(5, at(12, 1, 0, 30), signed_at=at(11, 30, 9), promised_at=at(12, 1, 1)),
    ]
    orders = [await a_visit(db, users, visit) for visit in visits]
    await db.commit()
    return shop, [order.id for order in orders]


async def test_each_question_is_proved_for_a_share_of_the_months_delivered_orders(
    db, users
) -> None:
    shop, ids = await _november(db, users)
    figures = {f.code: f for f in await monthly_evidence.for_period(db, NOVEMBER, shop)}
    assert list(figures) == list(monthly_evidence.CODES)
    assert {code: (f.proved, f.orders, f.per_cent) for code, f in figures.items()} == {
        "walkaround": (1, 3, 33.3),
        "estimate_before_work": (2, 3, 66.7),
        "ready_on_time": (1, 3, 33.3),
        "bill_matches": (2, 3, 66.7),
        "follow_up": (1, 3, 33.3),
    }
    assert figures["walkaround"].work_order_ids == (ids[0],)
    assert figures["estimate_before_work"].work_order_ids == (ids[0], ids[2])
    assert figures["bill_matches"].work_order_ids == (ids[0], ids[1])


async def test_a_tighter_tolerance_no_longer_lets_104_match_an_estimate_of_100(db, users) -> None:
    shop, ids = await _november(db, users)
    shop.bill_tolerance_percent = Decimal("3")
    figures = {f.code: f for f in await monthly_evidence.for_period(db, NOVEMBER, shop)}
    assert figures["bill_matches"].work_order_ids == (ids[0],)


async def test_a_month_without_deliveries_proves_nothing_and_divides_by_nothing(db, users) -> None:
    shop, _ids = await _november(db, users)
    january = report_period.month_period(2027, 1, BEIJING)
    figures = await monthly_evidence.for_period(db, january, shop)
    assert [(f.proved, f.orders, f.per_cent) for f in figures] == [(0, 0, None)] * 5


async def test_the_month_is_counted_in_a_few_queries_whatever_its_size(db, users) -> None:
    shop, _ids = await _november(db, users)
    statements: list[str] = []
    engine = db.bind.sync_engine  # type: ignore[union-attr]

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        await monthly_evidence.for_period(db, NOVEMBER, shop)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # orders, passed checks, signatures, supplements, jobs (+ their lines), discounts,
    # covers, photos, clocks, calls: not one per order.
    assert len(statements) <= 12
