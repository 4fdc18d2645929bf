from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import delete, select, update

from app.demo import data as demo_data
from app.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Customer,
    Dealership,
    Role,
    Vehicle,
    WorkOrder,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import steps as check_ins
from app.services.lane_board import actions
from app.services.lane_board import board as lane_board
from app.services.lane_board.flags import Flag
from tests.conftest import csrf_token, html, sign_in


async def _demo(db, settings) -> None:  # type: ignore[no-untyped-def]
    await demo_data.load(db, settings.tz)
    await db.commit()


async def test_the_board_lists_todays_appointments_and_cars_on_site(client, users, db, settings):
    await _demo(db, settings)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert len(page.select("[data-testid=appointment]")) == demo_data.APPOINTMENTS_PER_DAY
    assert len(page.select("[data-testid=on-site] li")) == 4
    statuses = {b["data-status"] for b in page.select("[data-testid=on-site] [data-status]")}
    assert statuses == {"in_progress", "signed", "qc", "ready"}
    assert page.select_one("[data-testid=walk-in]")["href"] == "/walk-in"


async def test_an_empty_day_shows_the_empty_state(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert page.select_one("[data-testid=board-empty]") is not None
    assert page.select("[data-testid=appointment]") == []


async def test_an_htmx_refresh_gets_only_the_board_fragment(client, users, db, settings) -> None:
    await _demo(db, settings)
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/lane", headers={"HX-Request": "true"})
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text
    fragment = html(response)
    assert fragment.select_one("section#board") is not None
    assert len(fragment.select("[data-testid=appointment]")) == demo_data.APPOINTMENTS_PER_DAY


async def test_marking_a_customer_arrived_records_the_time_and_who(
    client, users, db, settings
) -> None:
    await _demo(db, settings)
    first_id = await db.scalar(select(Appointment.id).order_by(Appointment.id).limit(1))
    await db.rollback()  # end the read snapshot so the checks below see the app's writes
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    response = await client.post(
        f"/lane/appointments/{first_id}/arrived",
        data={"_csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert html(response).select_one("[data-testid=waiting]") is not None
    first = await db.get(Appointment, first_id)
    assert first.status == AppointmentStatus.ARRIVED
    assert utcnow() - first.arrived_at < timedelta(minutes=1)
    event = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "customer_arrived"))
    ).one()
    assert event.actor_id == users[Role.ADVISOR]
    assert event.entity_id == str(first_id)


async def test_marking_arrived_twice_is_a_conflict_and_keeps_the_first_time(
    client, users, db, settings
) -> None:
    await _demo(db, settings)
    first_id = await db.scalar(select(Appointment.id).order_by(Appointment.id).limit(1))
    await db.rollback()  # end the read snapshot so the checks below see the app's writes
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    url = f"/lane/appointments/{first_id}/arrived"
    assert (await client.post(url, data={"_csrf_token": token})).status_code == 303
    arrived_at = await db.scalar(select(Appointment.arrived_at).where(Appointment.id == first_id))
    await db.rollback()
    again = await client.post(url, data={"_csrf_token": token})
    assert again.status_code == 409
    assert "已标记为到店" in html(again).get_text()
    again_at = await db.scalar(select(Appointment.arrived_at).where(Appointment.id == first_id))
    assert arrived_at is not None
    assert again_at == arrived_at


async def test_customers_waiting_past_the_greeting_standard_are_flagged(db, settings) -> None:
    await _demo(db, settings)
    appts = (await db.scalars(select(Appointment).order_by(Appointment.id).limit(2))).all()
    now = utcnow()
    await lane_board.mark_arrived(db, appts[0].id, Actor(None), now=now - timedelta(minutes=7))
    await lane_board.mark_arrived(db, appts[1].id, Actor(None), now=now - timedelta(minutes=2))
    board = await lane_board.load(db, settings.tz, greeting_minutes=5, now=now)
    waiting = {
        row.appointment.id: row for row in board.appointments if row.waited_minutes is not None
    }
    assert waiting[appts[0].id].waited_minutes == 7
    assert waiting[appts[0].id].overdue
    assert waiting[appts[1].id].waited_minutes == 2
    assert not waiting[appts[1].id].overdue
    assert board.waiting_count == 2


async def test_delivered_cars_leave_the_board(db, settings) -> None:
    await _demo(db, settings)
    await db.execute(delete(Appointment))
    board = await lane_board.load(db, settings.tz)
    assert len(board.on_site) == 4
    order = board.on_site[0]
    order.status = "delivered"
    await db.flush()
    board = await lane_board.load(db, settings.tz)
    assert order.id not in {o.id for o in board.on_site}
    assert len(board.on_site) == 3
    assert (await db.get(WorkOrder, order.id)) is not None


# -- late, no-show and waiting flags ------------------------------------------------------------


async def _small_day(db, settings):  # type: ignore[no-untyped-def]
    """Seven bookings on one morning; 'now' is 10:00 local. Returns (now, ids by letter)."""
    day = utcnow().astimezone(settings.tz).date() - timedelta(days=3)

    def at(hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=settings.tz)

    plan = {  # letter: (booked for, arrived at)
        "on_time": (at(9, 50), None),  # 10 min past: not yet late
        "late_16": (at(9, 44), None),
        "late_30": (at(9, 30), None),
        "no_show": (at(8, 59), None),  # 61 min past
        "waiting": (at(9, 0), at(9, 54)),  # arrived 6 min ago, not greeted
        "just_in": (at(9, 40), at(9, 57)),  # arrived 3 min ago
        "later": (at(11, 0), None),
    }
    ids = {}
    for n, (letter, (booked, arrived)) in enumerate(plan.items()):
        customer = Customer(name=f"客户{n}", phone=f"1380000000{n}")
        vehicle = Vehicle(customer=customer, plate=f"粤B1000{n}", make="Toyota", model="Camry")
        appt = Appointment(
            customer=customer, vehicle=vehicle, scheduled_at=booked, requested_work="常规保养",
            status=AppointmentStatus.ARRIVED if arrived else AppointmentStatus.BOOKED,
            arrived_at=arrived,
        )  # fmt: skip
        db.add_all([customer, vehicle, appt])
        await db.flush()
        ids[letter] = appt.id
    return at(10, 0), ids


async def test_bookings_past_their_time_are_late_then_no_show_and_long_waits_are_flagged(
    db, settings
) -> None:
    now, ids = await _small_day(db, settings)
    board = await lane_board.load(db, settings.tz, 5, now=now, late_minutes=15, no_show_minutes=60)
    flags = {row.appointment.id: row.flag for row in board.appointments}
    assert flags == {
        ids["on_time"]: None, ids["late_16"]: "late", ids["late_30"]: "late",
        ids["no_show"]: "no_show", ids["waiting"]: "waiting", ids["just_in"]: None,
        ids["later"]: None,
    }  # fmt: skip
    assert (board.count(Flag.LATE), board.count(Flag.NO_SHOW), board.count(Flag.WAITING)) == (
        2,
        1,
        1,
    )
    overdue = {row.appointment.id for row in board.appointments if row.overdue}
    assert overdue == {ids["waiting"]}


async def test_the_thresholds_are_the_dealerships_own(db, settings) -> None:
    now, ids = await _small_day(db, settings)
    board = await lane_board.load(db, settings.tz, 10, now=now, late_minutes=30, no_show_minutes=90)
    flags = {row.appointment.id: row.flag for row in board.appointments}
    # 30 min past is not "more than 30"; 61 min past is only late now; a 6-minute wait is fine.
    assert flags[ids["late_16"]] is None
    assert flags[ids["late_30"]] is None
    assert flags[ids["no_show"]] == "late"
    assert flags[ids["waiting"]] is None
    # A booking the advisor already marked as a no-show counts as one.
    appt = await db.get(Appointment, ids["later"])
    appt.status = AppointmentStatus.NO_SHOW
    await db.flush()
    board = await lane_board.load(db, settings.tz, 10, now=now, late_minutes=30, no_show_minutes=90)
    assert board.count(Flag.NO_SHOW) == 1


async def test_the_board_counts_the_flags_with_the_dealerships_settings(
    client, users, db, settings
) -> None:
    await _demo(db, settings)
    shop = await db.scalar(select(Dealership))
    shop.late_minutes, shop.no_show_minutes = 1, 3
    await db.execute(delete(Appointment))
    now = utcnow()
    customer = Customer(name="迟到客户", phone="13900000001")
    vehicle = Vehicle(customer=customer, plate="粤B9L001", make="Toyota", model="Camry")
    db.add_all([
        Appointment(customer=customer, vehicle=vehicle, scheduled_at=now - timedelta(minutes=2)),
        Appointment(customer=customer, vehicle=vehicle, scheduled_at=now - timedelta(minutes=2)),
        Appointment(customer=customer, vehicle=vehicle, scheduled_at=now - timedelta(minutes=5)),
        Appointment(customer=customer, vehicle=vehicle, scheduled_at=now,
                    status=AppointmentStatus.ARRIVED, arrived_at=now - timedelta(minutes=6)),
    ])  # fmt: skip
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert page.select_one("[data-testid=flag-counts]").get_text(" ", strip=True) == (
        "2 位迟到 · 1 位未到店 · 1 位等候超过 5 分钟"
    )
    assert len(page.select("[data-testid=appointment] [data-testid=late]")) == 2
    assert len(page.select("[data-testid=appointment] [data-testid=no-show]")) == 1


# -- one action per order state ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "href"),
    [
        ("check_in", "continue", "/check-ins/7"),
        ("estimate", "estimate", "/work-orders/3/estimate"),
        ("signed", "order", "/work-orders/3"),
        ("in_progress", "order", "/work-orders/3"),
        ("qc", "order", "/work-orders/3"),
        ("ready", "deliver", "/delivery/3"),
        ("delivered", "view", "/work-orders/3"),
    ],
)
def test_each_order_state_has_its_one_action(status, kind, href) -> None:
    action = actions.for_order(status, 3, 7)
    assert action is not None
    assert (action.kind, action.href) == (kind, href)


def test_a_cancelled_order_offers_nothing() -> None:
    assert actions.for_order("cancelled", 3, 7) is None


async def test_a_checked_in_booking_shows_the_action_of_its_orders_state(
    client, users, db, settings
) -> None:
    """Before: a delivered car's booking still offered 继续接车."""
    await _demo(db, settings)
    appt_id = await db.scalar(select(Appointment.id).order_by(Appointment.id).limit(1))
    check_in = await check_ins.start_from_appointment(db, appt_id, Actor(users[Role.ADVISOR]))
    order_id = check_in.work_order_id
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    expected = {
        "check_in": ("继续接车", f"/check-ins/{check_in.id}"),
        "signed": ("查看工单", f"/work-orders/{order_id}"),
        "in_progress": ("查看工单", f"/work-orders/{order_id}"),
        "ready": ("交车", f"/delivery/{order_id}"),
        "delivered": ("查看", f"/work-orders/{order_id}"),
    }
    for status, (label, href) in expected.items():
        await db.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(status=status))
        await db.commit()
        page = html(await client.get("/lane"))
        # Folded away: its car is listed under the cars on site.
        folded = page.select_one("details[data-testid=checked-in-appointments]")
        row = folded.select_one(f"[data-testid=appointment][data-id='{appt_id}']")
        links = row.select("a[data-action]")
        assert [(a.get_text(strip=True), a["href"]) for a in links] == [(label, href)], status
        if status == "delivered":
            assert not page.select(f"[data-testid=on-site] a[href='{href}']")


# -- the search box --------------------------------------------------------------------------


async def test_the_search_finds_a_car_by_plate_name_phone_or_order_number(
    client, users, db, settings
) -> None:
    await _demo(db, settings)
    ready = await db.scalar(select(WorkOrder).where(WorkOrder.status == "ready"))
    booked = await db.scalar(select(Appointment).order_by(Appointment.id).limit(1))
    busy = {
        *(await db.scalars(select(WorkOrder.vehicle_id).where(WorkOrder.status != "delivered")))
    }
    busy |= set((await db.scalars(select(Appointment.vehicle_id))).all())
    idle = await db.scalar(select(Vehicle).where(Vehicle.id.not_in(busy)).limit(1))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    box = page.select_one("form[role=search]")
    assert (box["action"], box["hx-get"], box["hx-target"]) == (
        "/lane/search", "/lane/search", "#lane-results",
    )  # fmt: skip
    assert "delay:300ms" in box["hx-trigger"]

    async def hits(q: str):  # type: ignore[no-untyped-def]
        response = await client.get("/lane/search", params={"q": q}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "<html" not in response.text
        return html(response).select("[data-testid=lane-hit]")

    for q in (ready.vehicle.plate, ready.number, ready.number[-4:], ready.customer.phone,
              ready.customer.name):  # fmt: skip
        found = await hits(q)
        assert ready.vehicle.plate in [h.select_one(".plate").text for h in found], q
        hit = next(h for h in found if h.select_one(".plate").text == ready.vehicle.plate)
        assert hit.select_one("a[data-action=deliver]")["href"] == f"/delivery/{ready.id}"
    [hit] = await hits(booked.vehicle.plate)
    assert hit.select_one("form")["action"] == f"/check-ins/from-appointment/{booked.id}"
    [hit] = await hits(idle.plate)
    assert hit.select_one("form")["action"] == f"/check-ins/walk-in/{idle.id}"
    assert await hits("粤Z") == []
    # Without htmx the search is a page of its own.
    page = html(await client.get("/lane/search", params={"q": idle.plate}))
    assert page.select_one("header.appbar") is not None
    assert len(page.select("[data-testid=lane-hit]")) == 1


async def test_only_the_front_desk_searches_from_the_board(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)
    assert html(await client.get("/lane")).select_one("[data-testid=lane-search]") is None
    assert (await client.get("/lane/search", params={"q": "粤B"})).status_code == 403
