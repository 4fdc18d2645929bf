from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.demo import data as demo_data
from app.demo import reminders as demo_reminders
from app.models import (
    Appointment,
    AuditEvent,
    CheckIn,
    Complaint,
    Customer,
    Dealership,
    FollowUpAnswer,
    FollowUpTask,
    Inspection,
    Job,
    JobTask,
    LabourOperation,
    LineKind,
    MenuPackage,
    Part,
    Role,
    Signature,
    SignatureKind,
    StaffUser,
    TaskStatus,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.passwords import verify_password
from app.services import vin
from app.services.check_in import symptoms
from app.services.check_in.view import GUIDED_POSITIONS
from app.services.delivery import handover
from app.services.final_check import inspection as final_check
from app.services.lane_board.board import day_bounds
from app.services.photos import receive as check_in_photos
from app.services.photos import store as photo_store
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.services.workshop import jobs as workshop
from app.services.workshop.tasks import WORKSHOP_STATUSES
from tests.conftest import csrf_token, html, sign_in


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return await db.scalar(select(func.count()).select_from(model))


async def test_demo_data_has_what_the_brief_promises(db, settings) -> None:
    summary = await demo_data.load(db, settings.tz)
    assert summary.created_static
    # 30 customers with a car each, and the few cars due for a reminder (app/demo/reminders.py).
    cars = 30 + len(demo_reminders.CARS)
    assert await _count(db, Customer) == cars
    vehicles = (await db.scalars(select(Vehicle))).all()
    assert len(vehicles) == cars
    assert all(vin.check(v.vin).problem is None for v in vehicles)
    assert len({v.plate for v in vehicles}) == cars
    assert all(v.plate.startswith("粤B") and len(v.plate) == 7 for v in vehicles)
    start, end = day_bounds(utcnow(), settings.tz)
    today = await db.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.scheduled_at >= start, Appointment.scheduled_at < end
        )
    )
    assert today == 12
    users = {u.username: u for u in (await db.scalars(select(StaffUser))).all()}
    assert set(users) == {"advisor", "technician", "foreman", "qc", "relations", "manager", "admin"}
    assert all(verify_password(u.password_hash, "demo") for u in users.values())
    assert {r.value for u in users.values() for r in u.roles} == {
        "advisor", "technician", "foreman", "qc_inspector", "customer_relations",
        "service_manager", "admin",
    }  # fmt: skip
    assert await _count(db, LabourOperation) >= 10
    assert await _count(db, Part) >= 8
    packages = (await db.scalars(select(MenuPackage))).all()
    assert {p.interval_km for p in packages} == {5000, 10000, 40000}
    assert all(p.items for p in packages)


MODELS = (Customer, Vehicle, Appointment, StaffUser, Part, WorkOrder, CheckIn, Job, JobTask,
          Signature, Inspection, AuditEvent)  # fmt: skip


async def test_loading_demo_data_twice_changes_nothing(db, settings) -> None:
    await demo_data.load(db, settings.tz)
    await db.commit()
    counts = [await _count(db, m) for m in MODELS]
    statuses = (await db.execute(select(WorkOrder.number, WorkOrder.status))).all()
    again = await demo_data.load(db, settings.tz)
    await db.commit()
    assert not again.created_static
    assert again.appointments_added == 0
    assert [await _count(db, m) for m in MODELS] == counts
    assert (await db.execute(select(WorkOrder.number, WorkOrder.status))).all() == statuses


# -- the cars already on site ------------------------------------------------------------------


async def _on_site(db, settings) -> dict[str, WorkOrder]:  # type: ignore[no-untyped-def]
    """Demo data loaded and committed; the on-site orders by number."""
    await demo_data.load(db, settings.tz)
    await db.commit()
    orders = (
        await db.scalars(select(WorkOrder).where(WorkOrder.status.in_(WORKSHOP_STATUSES)))
    ).all()
    return {o.number: o for o in orders}


async def _user(db, username: str) -> int:  # type: ignore[no-untyped-def]
    user_id = await db.scalar(select(StaffUser.id).where(StaffUser.username == username))
    assert user_id is not None
    return user_id


async def test_the_cars_on_site_went_through_check_in_estimate_and_signature(db, settings) -> None:
    orders = await _on_site(db, settings)
    day = day_bounds(utcnow(), settings.tz)[0].date()
    assert {n: o.status for n, o in orders.items()} == {
        f"WO{day:%Y%m%d}-0001": WorkOrderStatus.IN_PROGRESS,
        f"WO{day:%Y%m%d}-0002": WorkOrderStatus.SIGNED,
        f"WO{day:%Y%m%d}-0003": WorkOrderStatus.QC,
        f"WO{day:%Y%m%d}-0004": WorkOrderStatus.READY,
    }
    booked = set((await db.scalars(select(Appointment.vehicle_id))).all())
    advisor = await _user(db, "advisor")
    for order in orders.values():
        assert order.vehicle_id not in booked
        assert order.advisor_id == advisor
        check_in = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
        assert check_in is not None
        assert check_in.completed_at is not None
        assert check_in.arrived_at < check_in.started_at < check_in.completed_at < utcnow()
        assert {c.kind for c in check_in.covers} == {"seat", "steering_wheel", "gear_lever",
                                                      "floor_mat"}  # fmt: skip
        assert check_in.odometer_km == order.vehicle.last_odometer_km
        assert check_in.fuel_eighths is not None
        assert check_in.road_test_consent is True
        assert check_in.contact_confirmed
        assert check_in.follow_up_accepted is True
        [concern] = check_in.concerns
        assert all(getattr(concern, f) for f in symptoms.W2H_FIELDS), concern
        assert check_in.summary_confirmed_at is not None
        jobs = (
            await db.scalars(select(Job).where(Job.work_order_id == order.id).order_by(Job.id))
        ).all()
        assert 1 <= len(jobs) <= 2
        assert jobs[0].concern_id == concern.id
        for job in jobs:
            assert sorted(line.kind for line in job.lines) == [LineKind.LABOUR, LineKind.PART]
            assert all(line.unit_price == line.list_price > 0 for line in job.lines)
            assert all(line.expected_on is None for line in job.lines)  # parts on the shelf
        assert order.signed_at is not None
        assert order.promised_at is not None
        assert order.promised_at > utcnow()
        assert order.promised_at - utcnow() < timedelta(hours=24)
        assert (order.consent_road_test, order.consent_keep_old_parts, order.consent_follow_up) == (
            True, True, True,
        )  # fmt: skip
        signature = await signatures.work_order_signature(db, order)
        assert signature is not None
        assert signature.signer_name == order.customer.name
        assert signature.signed_at == order.signed_at
        assert signature.staff_id == advisor
        check = await signatures.verify(db, signature, settings.currency)
        assert check.intact, check.differences
        assert signature.image_png.startswith(b"\x89PNG")
        assert len(signature.strokes) >= 2


async def test_the_workshop_has_each_car_as_far_as_its_story_goes(db, settings) -> None:
    orders = {n[-4:]: o for n, o in (await _on_site(db, settings)).items()}
    tech, foreman, qc = [await _user(db, u) for u in ("technician", "foreman", "qc")]

    async def tasks(number: str) -> list[JobTask]:
        return [t for t, _job in await workshop.order_tasks(db, orders[number].id)]

    waiting = await tasks("0002")
    assert waiting
    assert all((t.status, t.technician_id) == (TaskStatus.WAITING, None) for t in waiting)

    first, *others = await tasks("0001")
    assert (first.status, first.technician_id) == (TaskStatus.IN_PROGRESS, tech)
    [entry] = first.entries
    assert entry.technician_id == tech
    assert entry.finished_at is None
    assert entry.started_at < utcnow()
    assert all((t.status, t.technician_id) == (TaskStatus.DISPATCHED, tech) for t in others)

    for number in ("0003", "0004"):
        done = await tasks(number)
        assert done
        for task in done:
            assert (task.status, task.technician_id) == (TaskStatus.FINISHED, tech)
            assert workshop.clocked_hours(task) > 0
            assert task.self_checked_at is not None
            assert task.mutual_checked_by_id == foreman
            assert task.self_checked_at < task.mutual_checked_at < utcnow()
            assert not task.rework

    assert await _count(db, Inspection) == 1
    st = await final_check.state(db, orders["0004"].id)
    [inspection] = st.inspections
    assert (inspection.passed, inspection.round, inspection.inspector_id) == (True, 1, qc)
    assert inspection.ticked == st.items
    assert "road_test" in st.items
    assert st.check_in is not None
    assert (
        final_check.odometer_fuel_problem(
            st, inspection.odometer_km or 0, inspection.fuel_eighths or 0
        )
        is None
    )
    assert inspection.odometer_km > st.check_in.odometer_km
    assert await final_check.last_passed(db, orders["0004"].id) == inspection
    # Only real signatures: one per order, none for delivery yet.
    kinds = (await db.scalars(select(Signature.kind))).all()
    assert kinds == [SignatureKind.WORK_ORDER.value] * 4


async def test_the_demo_pages_open_for_the_cars_on_site(client, db, settings, users) -> None:
    """The staff's pages for each car, with the test users standing in for the demo staff."""
    orders = {n[-4:]: o.id for n, o in (await _on_site(db, settings)).items()}
    await sign_in(client, Role.FOREMAN)
    board = await client.get("/workshop")
    assert board.status_code == 200
    client.cookies.clear()
    await sign_in(client, Role.TECHNICIAN)
    assert (await client.get("/my-jobs")).status_code == 200
    client.cookies.clear()
    await sign_in(client, Role.QC_INSPECTOR)
    assert (await client.get(f"/final-check/{orders['0003']}")).status_code == 200
    client.cookies.clear()
    await sign_in(client, Role.ADVISOR)
    delivery = await client.get(f"/delivery/{orders['0004']}")
    assert delivery.status_code == 200, delivery.text
    assert (await client.get("/lane")).status_code == 200


@pytest.mark.parametrize("local_time", [time(0, 30), time(16, 45), time(18, 30)])
async def test_the_cars_stories_fit_today_whenever_the_demo_loads(db, settings, local_time) -> None:
    """Loaded just after midnight the mornings are squeezed into today; whenever it loads,
    the promised times are still ahead and within the workshop's opening hours (loaded
    after closing time: the next morning)."""
    today = utcnow().astimezone(settings.tz).date()
    midnight = datetime.combine(today, time.min, tzinfo=settings.tz)
    now = datetime.combine(today, local_time, tzinfo=settings.tz)
    await demo_data.load(db, settings.tz, now=now)
    await db.commit()
    shop = await db.scalar(select(Dealership))
    opens, closes = (time.fromisoformat(t) for t in (shop.workshop_opens, shop.workshop_closes))
    orders = (
        await db.scalars(select(WorkOrder).where(WorkOrder.status.in_(WORKSHOP_STATUSES)))
    ).all()
    assert len(orders) == 4
    for order in orders:
        check_in = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
        assert check_in is not None
        assert check_in.completed_at is not None
        assert order.signed_at is not None
        assert order.promised_at is not None
        assert midnight <= check_in.arrived_at < check_in.completed_at < order.signed_at <= now
        promised = order.promised_at.astimezone(settings.tz)
        assert now < promised < now + timedelta(hours=24)
        assert opens <= promised.time() <= closes, promised
        if local_time < time(12, 0):
            assert promised.date() == today  # the afternoon's handovers
        if local_time >= closes:
            assert promised.date() == today + timedelta(days=1)  # the next morning
        for task, _job in await workshop.order_tasks(db, order.id):
            for entry in task.entries:
                assert order.signed_at < entry.started_at <= now
                assert entry.finished_at is None or entry.started_at < entry.finished_at <= now
    inspection = await db.scalar(select(Inspection))
    assert inspection is not None
    assert midnight < inspection.created_at <= now


# -- what the demo shows: photos, damage, a car ready to hand over --------------------------------


async def test_the_cars_on_site_carry_check_in_photos_and_damage_marks(db, settings) -> None:
    """Drawn by the demo, one per walkaround position and one of each damage, received
    through the real pipeline into the configured store."""
    store = open_store(settings)
    await demo_data.load(db, settings.tz, store=store)
    await db.commit()
    orders = (
        await db.scalars(select(WorkOrder).where(WorkOrder.status.in_(WORKSHOP_STATUSES)))
    ).all()
    assert len(orders) == 4
    seen: set[str] = set()
    for order in orders:
        check_in = await db.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
        assert check_in is not None
        taken = await check_in_photos.of_check_in(db, check_in.id)
        by_position = {p.position: p for p in taken if p.position}
        assert sorted(by_position) == sorted(p.value for p in GUIDED_POSITIONS)
        assert check_in.damage_marks, order.number
        for mark in check_in.damage_marks:
            assert mark.note
            assert [p for p in taken if p.damage_mark_id == mark.id], mark.note
        for photo in taken:
            assert (photo.width, photo.height, photo.source_format) == (800, 600, "JPEG")
            assert photo.bytes_received < 120_000  # small: the demo loads in seconds
            assert photo_store.is_stored(store, photo.sha256)
            assert photo.uploaded_by_id == order.advisor_id
            assert check_in.arrived_at < photo.uploaded_at < check_in.completed_at
            seen.add(photo.sha256)
    # Each car's own pictures (its colour and plate on them), not one set copied.
    assert len(seen) == 4 * (len(GUIDED_POSITIONS) + 1)
    events = await db.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "photo_added")
    )
    assert events == len(seen)


async def test_one_car_waits_for_delivery_with_everything_ready(
    client, db, settings, users
) -> None:
    await demo_data.load(db, settings.tz, store=open_store(settings))
    await db.commit()
    ready = (await db.scalars(select(WorkOrder).where(WorkOrder.status == "ready"))).one()
    st = await handover.state(db, ready.id)
    assert st.inspection is not None
    assert st.inspection.passed
    assert st.bill.matches  # the bill is what the customer signed, no finding unanswered
    assert st.bill.current_total > 0
    assert [c.position for c in st.comparisons] == [p.value for p in handover.EXTERIOR]
    # What is left is done with the customer: the delivery photos, the old parts, the advice.
    assert len(st.problems) == 3, st.problems
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    begun = await client.post(f"/delivery/{ready.id}/begin", data={"_csrf_token": token})
    assert begun.status_code == 303
    page = html(await client.get(f"/delivery/{ready.id}"))  # the side-by-side
    for position in handover.EXTERIOR:
        pair = page.select_one(f"[data-testid=compare-{position.value}]")
        image = pair.select_one("[data-testid=check-in-photo] img")
        assert image is not None, position
        assert (await client.get(image["src"])).headers["content-type"] == "image/jpeg"


async def test_without_the_cars_on_site_a_load_leaves_no_open_orders(db, settings) -> None:
    summary = await demo_data.load(db, settings.tz, on_site=False)
    await db.commit()
    assert summary.appointments_added == demo_data.APPOINTMENTS_PER_DAY
    open_orders = select(func.count(WorkOrder.id)).where(
        WorkOrder.status != WorkOrderStatus.DELIVERED
    )
    assert await db.scalar(open_orders) == 0
    assert [await _count(db, m) for m in (CheckIn, Job, Signature, Inspection)] == [0, 0, 0, 0]


async def test_make_run_shows_a_month_of_follow_ups_and_complaints_in_every_state(
    db, settings
) -> None:
    await _on_site(db, settings)
    statuses = set((await db.scalars(select(FollowUpTask.status))).all())
    assert {"open", "reached", "unreachable", "declined"} <= statuses
    verdicts = set((await db.scalars(select(FollowUpAnswer.record_verdict))).all())
    assert "contradicts" in verdicts
    steps = [c.step for c in (await db.scalars(select(Complaint).order_by(Complaint.id))).all()]
    assert len(steps) == 6
    assert {"listen", "decide", "act", "closed"} <= set(steps)
