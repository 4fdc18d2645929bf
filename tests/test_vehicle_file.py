"""The vehicle's file (一车一档): a car's visits, health checks side by side, declined
work and odometer in one page, read in a fixed number of queries; the workshop sees the
technical part only (no prices, no phone numbers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data as demo
from app.demo import health_checks as demo_health_checks
from app.models import Inspection, ReminderContact, Role, Vehicle, WorkOrder
from app.models.base import utcnow
from app.services.health_check import customer, recommendations
from app.services.vehicle_file import view
from tests.conftest import html, sign_in
from tests.test_health_check_customer import _form, priced
from tests.workshop_helpers import actor

Users = dict[Role, int]


async def with_a_decline(db: AsyncSession, settings: Any, users: Users) -> tuple[int, int]:
    """A car whose health check found three items; the customer declined the brake pads.
    (vehicle id, order id); committed."""
    order_id, _check_id = await priced(db, settings, users)
    token = await recommendations.send(
        db, order_id, "sms", settings, actor(users, Role.ADVISOR), utcnow()
    )
    check = await customer.by_token(db, token, utcnow())
    recs = await recommendations.listed(db, check)
    form = _form(recs, tread_rr="approve", pads_front="decline", wipers="approve")
    pads = next(r.supplement.id for r in recs if r.result.key == "pads_front")
    await customer.decide(
        db, check, {**form, f"acknowledge-{pads}": "1"}, locale="zh_CN", currency="CNY",
        actor=actor(users, Role.ADVISOR), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    vehicle_id = await db.scalar(select(WorkOrder.vehicle_id).where(WorkOrder.id == order_id))
    assert vehicle_id is not None
    return vehicle_id, order_id


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_file_shows_visits_health_checks_and_declined_work(
    client, db, settings, users
) -> None:
    vehicle_id, order_id = await with_a_decline(db, settings, users)
    vehicle = await db.get(Vehicle, vehicle_id)
    assert vehicle is not None
    # The final check sent the car back once; a service reminder went out.
    db.add(Inspection(work_order_id=order_id, inspector_id=users[Role.QC_INSPECTOR], round=1,
                      passed=False))  # fmt: skip
    db.add(ReminderContact(vehicle_id=vehicle_id, customer_id=vehicle.customer_id,
                           kind="service", action="sent", channel="sms"))  # fmt: skip
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/vehicles/{vehicle_id}"))
    assert "第 1 轮：返工" in page.select_one("[data-testid=vf-qc]").text
    assert "保养" in page.select_one("[data-testid=vf-reminders]").text
    vehicle = await db.get(Vehicle, vehicle_id)
    assert vehicle is not None
    assert vehicle.plate in page.select_one("h1").text
    assert vehicle.customer.phone in page.select_one("[data-testid=vf-owner]").text
    visits = page.select("[data-testid=vf-visit]")
    assert len(visits) == 1
    assert visits[0].select_one("a")["href"] == f"/work-orders/{order_id}"
    assert page.select_one("[data-testid=vf-amount]") is not None
    tread = page.select_one("[data-testid=vf-health-tread_rr]")
    assert tread.select_one("[data-colour]")["data-colour"] == "red"
    assert tread.select_one("[data-testid=vf-measure]").text.strip() == "1.2"
    declined = [li.text for li in page.select("[data-testid=vf-declined-item]")]
    assert any("前制动片" in text for text in declined), declined
    assert len(page.select("[data-testid=vf-reading]")) == 1
    # The order's page links to the file.
    order_page = html(await client.get(f"/work-orders/{order_id}"))
    assert order_page.select_one("[data-testid=vehicle-file-link]")["href"] == (
        f"/vehicles/{vehicle_id}"
    )


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_workshop_sees_no_prices_and_no_phone_numbers(
    client, db, settings, users
) -> None:
    vehicle_id, _order_id = await with_a_decline(db, settings, users)
    vehicle = await db.get(Vehicle, vehicle_id)
    assert vehicle is not None
    phone = vehicle.customer.phone
    for role in (Role.TECHNICIAN, Role.FOREMAN):
        client.cookies.clear()
        await sign_in(client, role)
        response = await client.get(f"/vehicles/{vehicle_id}")
        assert response.status_code == 200
        page = html(response)
        assert page.select_one("[data-testid=vf-health-tread_rr]") is not None
        assert page.select_one("[data-testid=vf-amount]") is None
        assert phone not in response.text
        assert "¥" not in response.text


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_an_unknown_vehicle_is_not_found(client, db, users) -> None:
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/vehicles/999999")).status_code == 404


async def test_the_file_is_read_in_a_fixed_number_of_queries(db, settings, users) -> None:
    vehicle_id, _order_id = await with_a_decline(db, settings, users)
    engine = db.bind.sync_engine  # type: ignore[union-attr]
    statements: list[str] = []

    def count_it(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count_it)
    try:
        found = await view.load(db, vehicle_id, locale_zh=True)
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    assert len(found.visits) == 1
    assert len(statements) <= 16, "\n".join(s[:90] for s in statements)
    chart = view.chart([*found.readings, *found.readings])
    assert chart is not None


async def test_the_demo_holds_a_car_with_three_visits_and_two_health_checks(
    db: AsyncSession, settings: Any
) -> None:
    await demo.load(db, settings.tz, on_site=False)  # customers and cars; `make run` does the
    await demo_health_checks.seed(db, utcnow())  # same after the cars on site
    await db.commit()
    vehicle_id = await db.scalar(
        select(WorkOrder.vehicle_id).where(WorkOrder.number.like("%-V001"))
    )
    assert vehicle_id is not None
    found = await view.load(db, vehicle_id, locale_zh=True)
    assert len(found.visits) == 3
    assert [r.km for r in found.readings] == [21_300, 29_800, 37_900]
    assert len(found.health_checks) == 2
    tread = next(row for row in found.health_rows if row.key == "tread_rr")
    assert [c.measurement for c in tread.cells if c] == [Decimal("6.10"), Decimal("2.60")]
    assert view.chart(found.readings) is not None
    assert [r.safety for r in found.declined] == [True]
    # Seeding again adds nothing.
    await demo_health_checks.seed(db, utcnow())
    await db.commit()
    again = await view.load(db, vehicle_id, locale_zh=True)
    assert len(again.visits) == 3
