from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.models import (
    Appointment,
    AppointmentStatus,
    CheckIn,
    Customer,
    FollowUpTask,
    Job,
    Recommendation,
    Role,
    Step,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import fields as check_in_fields
from app.services.check_in import steps as check_ins
from app.services.check_in import symptoms, walkaround
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in


async def test_starting_from_an_appointment_prefills_the_booked_job(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    appointment = await db.get(Appointment, check_in.work_order.appointment_id)
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert appointment.arrived_at == check_in.arrived_at
    assert [c.customer_words for c in check_in.concerns] == [appointment.requested_work]
    assert check_in.work_order.number.startswith("WO")
    assert check_in.contact_phone == check_in.work_order.customer.phone
    assert [t.step for t in check_in.timings] == ["greeting"]


async def test_a_double_tap_on_start_resumes_instead_of_duplicating(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    again = await check_ins.start_from_appointment(
        db, check_in.work_order.appointment_id, Actor(users[Role.ADVISOR])
    )
    assert again.id == check_in_id
    assert await db.scalar(select(func.count(CheckIn.id))) == 1


async def test_a_stale_version_is_a_conflict_and_changes_nothing(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    actor = Actor(users[Role.ADVISOR])
    vehicle = check_in.work_order.vehicle
    await check_in_fields.save(
        db, check_in, Step.WALKAROUND, {"fuel_eighths": "4"}, 1, vehicle, actor
    )
    await db.commit()
    stale = await fresh(db, check_in_id)
    reading = str(stale.work_order.vehicle.last_odometer_km + 10)
    with pytest.raises(Conflict):
        await check_in_fields.save(
            db,
            stale,
            Step.WALKAROUND,
            {"fuel_eighths": "4", "odometer_km": reading},
            1,
            stale.work_order.vehicle,
            actor,
        )
    check_in = await fresh(db, check_in_id)
    assert check_in.version == 2
    assert check_in.odometer_km is None


async def test_an_odometer_below_the_last_visit_is_refused_with_the_last_reading(
    db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    vehicle = check_in.work_order.vehicle
    last = vehicle.last_odometer_km
    with pytest.raises(InvalidInput) as refused:
        await check_in_fields.save(
            db, check_in, Step.WALKAROUND, {"odometer_km": str(last - 1)}, 1, vehicle, Actor(None)
        )
    assert f"{last:,}" in refused.value.message
    assert refused.value.field == "odometer_km"
    assert (await fresh(db, check_in_id)).odometer_km is None


@pytest.mark.parametrize("reading", ["-5", "99999999", "12a", "3.5"])
async def test_negative_absurd_or_garbled_odometers_are_refused(db, settings, users, reading):
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    with pytest.raises(InvalidInput) as refused:
        await check_in_fields.save(
            db,
            check_in,
            Step.WALKAROUND,
            {"odometer_km": reading},
            1,
            check_in.work_order.vehicle,
            Actor(None),
        )
    assert refused.value.field == "odometer_km"
    assert (await fresh(db, check_in_id)).version == 1


async def test_an_implausible_odometer_jump_needs_confirmation(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    vehicle = check_in.work_order.vehicle
    vehicle.last_odometer_at = utcnow() - timedelta(days=10)
    await db.commit()
    check_in = await fresh(db, check_in_id)
    vehicle = check_in.work_order.vehicle
    jump = str(vehicle.last_odometer_km + 50_000)
    with pytest.raises(InvalidInput, match="50,000"):
        await check_in_fields.save(
            db, check_in, Step.WALKAROUND, {"odometer_km": jump}, 1, vehicle, Actor(None)
        )
    await check_in_fields.save(
        db,
        check_in,
        Step.WALKAROUND,
        {"odometer_km": jump, "odometer_jump_confirmed": "1"},
        1,
        vehicle,
        Actor(None),
    )
    assert check_in.odometer_km == vehicle.last_odometer_km + 50_000


async def test_covers_must_all_be_installed_or_a_reason_given(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    actor = Actor(users[Role.ADVISOR])
    check_in.contact_confirmed, check_in.follow_up_accepted = True, True
    await check_ins.finish_step(db, check_in, Step.GREETING, 1, actor)
    for kind in ("seat", "steering_wheel", "gear_lever"):
        await check_ins.toggle_cover(db, check_in, kind, check_in.version, actor)
    with pytest.raises(InvalidInput, match="防护用品"):
        await check_ins.finish_step(db, check_in, Step.COVERS, check_in.version, actor)
    await check_ins.toggle_cover(db, check_in, "floor_mat", check_in.version, actor)
    assert await check_ins.finish_step(db, check_in, Step.COVERS, check_in.version, actor) == (
        Step.WALKAROUND
    )
    installed = {c.kind: c for c in check_in.covers}
    assert installed["seat"].installed_by_id == users[Role.ADVISOR]
    assert installed["seat"].installed_at is not None


async def test_an_empty_concern_is_refused(db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    with pytest.raises(InvalidInput) as refused:
        await symptoms.add_concern(db, check_in, "   ", 1, Actor(None))
    assert refused.value.field == "customer_words"
    assert len((await fresh(db, check_in_id)).concerns) == 1


async def test_a_complete_check_in_records_its_duration_and_the_odometer(
    db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    actor = Actor(users[Role.ADVISOR])
    vehicle_id = check_in.work_order.vehicle_id
    last = check_in.work_order.vehicle.last_odometer_km
    check_in.contact_confirmed, check_in.follow_up_accepted = True, False
    await check_ins.finish_step(db, check_in, Step.GREETING, 1, actor)
    for kind in ("seat", "steering_wheel", "gear_lever", "floor_mat"):
        await check_ins.toggle_cover(db, check_in, kind, check_in.version, actor)
    await check_ins.finish_step(db, check_in, Step.COVERS, check_in.version, actor)
    await walkaround.add_mark(db, check_in, "0.3", "0.2", check_in.version, actor)
    await check_in_fields.save(
        db,
        check_in,
        Step.WALKAROUND,
        {"odometer_km": str(last + 5000), "fuel_eighths": "4"},
        check_in.version,
        check_in.work_order.vehicle,
        actor,
    )
    await check_ins.finish_step(db, check_in, Step.WALKAROUND, check_in.version, actor)
    with pytest.raises(InvalidInput, match="复述"):
        await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, actor)
    await check_in_fields.save(
        db,
        check_in,
        Step.SYMPTOMS,
        {"road_test_consent": "1"},
        check_in.version,
        check_in.work_order.vehicle,
        actor,
    )
    await symptoms.confirm_summary(db, check_in, check_in.version, actor)
    assert await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, actor) is None
    await db.commit()
    check_in = await fresh(db, check_in_id)
    assert check_in.completed_at is not None
    assert all(t.ended_at for t in check_in.timings)
    assert [t.step for t in check_in.timings] == ["greeting", "covers", "walkaround", "symptoms"]
    assert check_ins.duration(check_in).total_minutes is not None
    assert (await db.get(WorkOrder, check_in.work_order_id)).status == "estimate"
    assert (await db.get(Vehicle, vehicle_id)).last_odometer_km == last + 5000


async def test_the_summary_reads_back_every_concern_and_the_road_test(db, settings, users):
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    concern = check_in.concerns[0]
    await symptoms.save_concern(
        db,
        check_in,
        concern.id,
        {"customer_words": concern.customer_words, "when": "冷车启动"},
        1,
        Actor(None),
    )
    check_in.road_test_consent = True
    lines = symptoms.summary(check_in, "王先生")
    assert lines[0].startswith(f"1. 王先生 反映：“{concern.customer_words}”")
    assert "冷车启动" in lines[0]
    assert lines[-1] == "客户同意路试。"


async def test_autosave_over_http_returns_the_new_version_out_of_band(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")
    response = await client.post(
        f"/check-ins/{check_in_id}/walkaround/save",
        data={"_csrf_token": token, "version": "1", "fuel_eighths": "6"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    version = html(response).select_one("#version")
    assert version["value"] == "2"
    assert version["hx-swap-oob"] == "true"
    stale = await client.post(
        f"/check-ins/{check_in_id}/walkaround/save",
        data={"_csrf_token": token, "version": "1", "fuel_eighths": "2"},
        headers={"HX-Request": "true"},
    )
    assert stale.status_code == 409
    assert "另一台平板" in stale.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert (await fresh(db, check_in_id)).fuel_eighths == 6


async def test_every_step_page_renders_for_the_advisor(client, db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    for step in ("greeting", "covers", "walkaround", "symptoms"):
        page = html(await client.get(f"/check-ins/{check_in_id}/{step}"))
        assert page.select_one("[aria-current=step]") is not None, step
        assert page.select_one("#version")["value"]
    walkaround_page = html(await client.get(f"/check-ins/{check_in_id}/walkaround"))
    assert len(walkaround_page.select("[data-photo-slot][data-position]")) >= 12


async def test_a_technician_cannot_open_a_check_in(client, db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    assert (await client.get(f"/check-ins/{check_in_id}/greeting")).status_code == 403


async def test_htmx_actions_answer_with_their_region_and_the_new_version(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")
    hx = {"HX-Request": "true", "x-csrftoken": token}
    covers = await client.post(
        f"/check-ins/{check_in_id}/cover/seat", data={"version": "1"}, headers=hx
    )
    page = html(covers)
    assert page.select_one("[data-cover=seat]")["aria-pressed"] == "true"
    assert page.select_one("#version")["value"] == "2"
    marks = await client.post(
        f"/check-ins/{check_in_id}/marks",
        data={"version": "2", "x": "0.25", "y": "0.75"},
        headers=hx,
    )
    page = html(marks)
    assert len(page.select("[data-testid=mark]")) == 1
    assert page.select_one("#diagram")["hx-swap-oob"] == "true"
    outside = await client.post(
        f"/check-ins/{check_in_id}/marks", data={"version": "3", "x": "1.5", "y": "0.5"}, headers=hx
    )
    assert outside.status_code == 422
    concern = await client.post(
        f"/check-ins/{check_in_id}/concerns",
        data={"version": "3", "customer_words": ""},
        headers=hx,
    )
    assert concern.status_code == 422
    assert '"field": "customer_words"' in concern.headers["HX-Trigger"]
    check_in = await fresh(db, check_in_id)
    assert check_in.version == 3
    assert len(check_in.damage_marks) == 1
    assert len(check_in.concerns) == 1


async def test_the_last_step_cannot_complete_a_check_in_with_earlier_steps_undone(
    db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    check_in = await fresh(db, check_in_id)
    actor = Actor(users[Role.ADVISOR])
    check_in.road_test_consent = True
    await symptoms.confirm_summary(db, check_in, 1, actor)
    with pytest.raises(InvalidInput) as refused:
        await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, actor)
    assert "联系电话" in refused.value.message
    assert "防护用品" in refused.value.message
    assert check_in.completed_at is None


async def test_the_read_back_travels_with_every_5w2h_answer(client, db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    concern = (await fresh(db, check_in_id)).concerns[0]
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/symptoms")
    response = await client.post(
        f"/check-ins/{check_in_id}/concerns/{concern.id}",
        data={"version": "1", "customer_words": concern.customer_words, "when": "冷车启动"},
        headers={"HX-Request": "true", "x-csrftoken": token},
    )
    summary = html(response).select_one("#summary")
    assert summary["hx-swap-oob"] == "true"
    assert "时间：冷车启动" in summary.get_text()


# -- the greeting: what the advisor knows before speaking --------------------------------------


async def test_the_greeting_shows_the_booking_the_last_visit_its_declined_work_and_how_to_call(
    client, db, users
) -> None:
    now = utcnow()
    customer = Customer(name="周建华", phone="13812345678")
    vehicle = Vehicle(customer=customer, plate="粤B7G301", make="Toyota", model="RAV4")
    db.add_all([customer, vehicle])
    await db.flush()
    older = WorkOrder(number="WO-OLD-1", status=WorkOrderStatus.DELIVERED, customer=customer,
                      vehicle=vehicle, created_at=now - timedelta(days=400))  # fmt: skip
    last = WorkOrder(number="WO-OLD-2", status=WorkOrderStatus.DELIVERED, customer=customer,
                     vehicle=vehicle, created_at=now - timedelta(days=120))  # fmt: skip
    db.add_all([older, last])
    await db.flush()
    db.add_all([
        Job(work_order_id=last.id, title="10000公里保养"),
        Job(work_order_id=last.id, title="更换刹车片", declined_at=now - timedelta(days=120)),
        Recommendation(vehicle_id=vehicle.id, work_order_id=last.id, text="更换前刹车片",
                       safety=True, declined_at=now - timedelta(days=120)),
        Recommendation(vehicle_id=vehicle.id, work_order_id=older.id, text="更换雨刮片",
                       declined_at=now - timedelta(days=400)),
        FollowUpTask(work_order_id=last.id, due_at=now - timedelta(days=117),
                     preferred_when="evening"),
    ])  # fmt: skip
    appt = Appointment(customer=customer, vehicle=vehicle, scheduled_at=now,
                       requested_work="空调不凉", notes="客户需要代步车")  # fmt: skip
    db.add(appt)
    await db.flush()
    check_in = await check_ins.start_from_appointment(db, appt.id, Actor(users[Role.ADVISOR]))
    await db.commit()

    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/check-ins/{check_in.id}/greeting"))
    booked = page.select_one("[data-testid=booked-job]").get_text(" ", strip=True)
    assert booked.startswith("空调不凉")
    assert "客户需要代步车" in booked
    last_visit = page.select_one("[data-testid=last-visit]").get_text(" ", strip=True)
    assert "WO-OLD-2" in last_visit
    assert "10000公里保养" in page.get_text()
    [declined] = page.select("[data-testid=declined] li")  # that visit's, not the older one's
    assert "更换前刹车片" in declined.text
    assert declined.select_one(".badge-danger") is not None
    assert page.select_one("[data-testid=preferred-time]").get_text(strip=True) == "晚上"
    call = page.select_one("a[data-testid=call]")
    assert call["href"] == "tel:13812345678"
    assert "btn" in call["class"]  # a 48 px target


async def test_a_first_walk_in_greeting_says_there_is_no_booking_and_no_history(
    client, db, users
) -> None:
    customer = Customer(name="孙丽", phone="13900001111")
    vehicle = Vehicle(customer=customer, plate="粤B2K880", make="Chery", model="Arrizo 8")
    db.add_all([customer, vehicle])
    await db.flush()
    check_in = await check_ins.start_walk_in(db, vehicle.id, Actor(users[Role.ADVISOR]))
    await db.commit()
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/check-ins/{check_in.id}/greeting"))
    assert page.select_one("[data-testid=booked-job]").get_text(strip=True) == "未预约，直接到店。"
    assert page.select_one("[data-testid=last-visit]") is None
    assert page.select_one("[data-testid=preferred-time]").get_text(strip=True) == "尚未询问"
