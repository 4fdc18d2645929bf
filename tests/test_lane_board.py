from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from app.demo import data as demo_data
from app.models import Appointment, AppointmentStatus, AuditEvent, Role, WorkOrder
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.lane_board import board as lane_board
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
