"""The day before (预约后的准备) and arrival: a booking's jobs priced at today's catalogue on
tomorrow's list and on the order the check-in opens, the parts to order flagging their
bookings, the printable list (page and PDF), and what may not be checked in.

One small arrangement (no demo data): a menu package, a bare concern and a declined job
booked for tomorrow; a repair waiting for a part out of stock; a cancelled booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import bookings as demo_bookings
from app.demo import data as demo_data
from app.errors import Conflict
from app.models import (
    Appointment,
    AppointmentChange,
    AppointmentJob,
    AppointmentLine,
    AppointmentStatus,
    CheckIn,
    Customer,
    Dealership,
    Job,
    JobLine,
    LabourOperation,
    MenuPackage,
    MenuPackageItem,
    Part,
    Recommendation,
    Role,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.appointments import tomorrow
from app.services.audit import Actor
from app.services.check_in import steps as check_ins
from app.services.estimate import editing
from app.settings import Settings
from tests.conftest import TEST_SECRET, csrf_token, html, sign_in


@pytest.fixture(name="settings")
def fx_settings(database_url: str, tmp_path: Path) -> Settings:
    """A dealership where it is about noon: "today" and "tomorrow" hold on any test run."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. +12; Etc/GMT-N means UTC+N
    zone = "Etc/GMT" + (f"{-offset:+d}" if offset else "")
    return Settings(
        env="test", data_dir=tmp_path, database_url=database_url, secret_key=TEST_SECRET,
        timezone=zone,
    )  # fmt: skip


@dataclass
class World:
    day: date  # tomorrow, where the dealership is
    shop: int
    filter_part: int
    serviced: int  # tomorrow 09:00: menu package + concern + declined job
    repair: int  # tomorrow 10:00: brake pads, out of stock
    cancelled: int  # tomorrow 11:00, cancelled
    today: int  # today, booked: the check-in path
    today_cancelled: int


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


async def arrange(db: AsyncSession, settings: Settings) -> World:
    tz = settings.tz
    now = utcnow()
    day = tomorrow.default_day(now, tz)
    shop = Dealership(code="T1", name="Test Motors", tax_rate=Decimal("0.10"))
    oil = LabourOperation(code="L-OIL", name_zh="更换机油", name_en="Oil change",
                          flat_rate_hours=Decimal("0.5"), labour_rate=Decimal("200"))  # fmt: skip
    brakes = LabourOperation(code="L-BRK", name_zh="更换刹车片", name_en="Brake pads",
                             flat_rate_hours=Decimal("1.5"),
                             labour_rate=Decimal("300"))  # fmt: skip
    filter_part = Part(number="P-FLT", name_zh="机油滤清器", name_en="Oil filter",
                       price=Decimal("50"), stock_on_hand=10)  # fmt: skip
    pads = Part(number="P-PAD", name_zh="刹车片", name_en="Brake pad set",
                price=Decimal("400"), stock_on_hand=0, lead_time_days=3)  # fmt: skip
    wipers = Part(number="P-WIP", name_zh="雨刮片", name_en="Wiper blades",
                  price=Decimal("80"), stock_on_hand=5)  # fmt: skip
    db.add_all([shop, oil, brakes, filter_part, pads, wipers])
    await db.flush()
    package = MenuPackage(
        code="M10", name_zh="一万公里保养", name_en="10,000 km service",
        interval_km=10000, interval_months=12,
        items=[MenuPackageItem(labour_operation_id=oil.id, quantity=Decimal("1")),
               MenuPackageItem(part_id=filter_part.id, quantity=Decimal("1"))],
    )  # fmt: skip
    customer = Customer(name="王先生", phone="13800000001", locale="zh_CN")
    db.add_all([package, customer])
    await db.flush()
    vehicle = Vehicle(customer_id=customer.id, plate="沪A12345", make="Chery", model="Tiggo 8",
                      vin="LVVDB11B5ND000001", last_odometer_km=9800)  # fmt: skip
    db.add(vehicle)
    await db.flush()
    # Last visit: the customer declined new wiper blades.
    last = WorkOrder(number="WO-OLD-1", status=WorkOrderStatus.DELIVERED,
                     customer_id=customer.id, vehicle_id=vehicle.id)  # fmt: skip
    db.add(last)
    await db.flush()
    declined = Job(work_order_id=last.id, title="更换雨刮片", declined_at=now - timedelta(days=60),
                   lines=[JobLine(kind="part", part_id=wipers.id, code="P-WIP", name_zh="雨刮片",
                                  name_en="Wiper blades", quantity=Decimal("1"),
                                  list_price=Decimal("70"), unit_price=Decimal("70"))])  # fmt: skip
    rec = Recommendation(vehicle_id=vehicle.id, work_order_id=last.id, text="更换雨刮片",
                         declined_at=now - timedelta(days=60))  # fmt: skip
    db.add_all([declined, rec])
    await db.flush()

    def booking(at: datetime, jobs: list[AppointmentJob], **kw: object) -> Appointment:
        return Appointment(customer_id=customer.id, vehicle_id=vehicle.id, scheduled_at=at,
                           jobs=jobs, **kw)  # fmt: skip

    serviced = booking(
        _at(day, 9, tz),
        [
            AppointmentJob(position=0, source="menu", title="一万公里保养",
                           menu_package_id=package.id, amount=Decimal("140")),
            AppointmentJob(position=1, source="concern", title="刹车有异响",
                           customer_words='{"words": "刹车有异响", "chips": ["冷车启动", "前部"]}'),
            AppointmentJob(position=2, source="declined", title="更换雨刮片",
                           recommendation_id=rec.id),
        ],
        labour_hours=Decimal("0.5"), bring="service_book,wheel_lock_key", odometer_km=10100,
        notes="客户在休息室等",
    )  # fmt: skip
    repair = booking(
        _at(day, 10, tz),
        [AppointmentJob(position=0, source="manual", title="更换前刹车片", lines=[
            AppointmentLine(kind="labour", labour_operation_id=brakes.id, quantity=Decimal("1")),
            AppointmentLine(kind="part", part_id=pads.id, quantity=Decimal("1")),
        ])],
        labour_hours=Decimal("1.0"),
    )  # fmt: skip
    gone = booking(_at(day, 11, tz), [], status=AppointmentStatus.CANCELLED,
                   requested_work="取消的预约")  # fmt: skip
    today_at = now + timedelta(minutes=10)
    here = booking(
        today_at,
        [AppointmentJob(position=0, source="menu", title="一万公里保养",
                        menu_package_id=package.id),
         AppointmentJob(position=1, source="concern", title="刹车有异响",
                        customer_words='{"words": "刹车有异响", "when": "早上冷车"}'),
         AppointmentJob(position=2, source="declined", title="更换雨刮片",
                        recommendation_id=rec.id)],
    )  # fmt: skip
    here_gone = booking(today_at, [], status=AppointmentStatus.CANCELLED)
    db.add_all([serviced, repair, gone, here, here_gone])
    await db.commit()
    world = World(day, shop.id, filter_part.id, serviced.id, repair.id, gone.id,
                  here.id, here_gone.id)  # fmt: skip
    db.expire_all()  # the code under test loads what it reads, as in a request
    return world


def advisor(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.ADVISOR], roles=frozenset({"advisor"}))


async def _counts(db: AsyncSession) -> tuple[int, ...]:
    return tuple(
        [
            await db.scalar(select(func.count()).select_from(model)) or 0
            for model in (WorkOrder, CheckIn, Job, JobLine, AppointmentChange)
        ]
        + list((await db.scalars(select(Appointment.version).order_by(Appointment.id))).all())
    )


async def test_check_in_puts_the_booked_jobs_on_the_order_priced_today(db, settings, users) -> None:
    world = await arrange(db, settings)
    # The filter went up since the booking: the order carries today's price.
    filter_part = await db.get(Part, world.filter_part)
    assert filter_part is not None
    filter_part.price = Decimal("60")
    await db.commit()

    started = await check_ins.start_from_appointment(db, world.today, advisor(users), settings.tz)
    check_in_id = started.id
    await db.commit()
    db.expire_all()
    appt = await db.get(Appointment, world.today)
    assert appt is not None
    assert appt.status == AppointmentStatus.CHECKED_IN
    assert appt.slot_key is None
    changes = (await db.scalars(select(AppointmentChange.kind).where(
        AppointmentChange.appointment_id == appt.id))).all()  # fmt: skip
    assert changes == ["checked_in"]
    check_in = await db.get(CheckIn, check_in_id)
    assert check_in is not None
    # Only the customer's words are a concern (read back in the symptoms step); the
    # maintenance and the declined work wait on the estimate.
    concerns = {c.customer_words: c for c in check_in.concerns}
    assert set(concerns) == {"刹车有异响"}
    assert concerns["刹车有异响"].when == "早上冷车"

    jobs = (await db.scalars(select(Job).where(
        Job.work_order_id == check_in.work_order_id).order_by(Job.id))).all()  # fmt: skip
    by_title = {j.title: j for j in jobs}
    assert set(by_title) == {
        "一万公里保养",
        "更换雨刮片",
    }  # the bare concern waits for the estimate
    menu = by_title["一万公里保养"]
    assert menu.source == "menu"
    assert menu.concern_id is None
    assert by_title["更换雨刮片"].concern_id is None
    assert sorted((ln.code, ln.quantity, ln.unit_price) for ln in menu.lines) == [
        ("L-OIL", Decimal("0.50"), Decimal("200.00")),
        ("P-FLT", Decimal("1.00"), Decimal("60.00")),
    ]
    # The declined job comes back with its part, at today's price (80, not the 70 then).
    wipers = by_title["更换雨刮片"]
    assert [(ln.code, ln.unit_price) for ln in wipers.lines] == [("P-WIP", Decimal("80.00"))]

    # Completing the check-in opens the estimate: the concern gets its job, nothing twice.
    check_in.completed_at = utcnow()
    order = await db.get(WorkOrder, check_in.work_order_id)
    assert order is not None
    await editing.start(db, order, advisor(users))
    await editing.start(db, order, advisor(users))
    await db.commit()
    titles = (await db.scalars(select(Job.title).where(
        Job.work_order_id == order.id).order_by(Job.id))).all()  # fmt: skip
    assert sorted(titles) == sorted(["一万公里保养", "更换雨刮片", "刹车有异响"])


async def test_a_cancelled_booking_is_refused_and_nothing_changes(db, settings, users) -> None:
    world = await arrange(db, settings)
    before = await _counts(db)
    with pytest.raises(Conflict, match="取消"):
        await check_ins.start_from_appointment(
            db, world.today_cancelled, advisor(users), settings.tz
        )
    await db.rollback()
    assert await _counts(db) == before
    appt = await db.get(Appointment, world.today_cancelled)
    assert appt is not None
    assert appt.status == AppointmentStatus.CANCELLED


async def test_a_no_show_cannot_be_checked_in(db, settings, users) -> None:
    world = await arrange(db, settings)
    appt = await db.get(Appointment, world.today)
    assert appt is not None
    appt.status = AppointmentStatus.NO_SHOW
    await db.commit()
    with pytest.raises(Conflict):
        await check_ins.start_from_appointment(db, world.today, advisor(users), settings.tz)


async def test_tomorrow_lists_each_order_pre_filled_and_flags_the_part_to_order(
    db, settings, users
) -> None:
    world = await arrange(db, settings)
    shop = await db.get(Dealership, world.shop)
    assert shop is not None
    prep = await tomorrow.load(db, shop, world.day, settings.tz, utcnow(), "zh_CN")
    assert [b.appointment.id for b in prep.bookings] == [world.serviced, world.repair]
    serviced, repair = prep.bookings
    assert [e.job.title for e in serviced.jobs] == ["一万公里保养", "刹车有异响", "更换雨刮片"]
    # 0.5 h × 200 + filter 50 + wipers 80 = 230, plus 10 % tax.
    assert serviced.subtotal == Decimal("230.00")
    assert serviced.total == Decimal("253.00")
    assert serviced.bring == ["service_book", "wheel_lock_key"]
    assert not serviced.must_order
    assert repair.must_order
    assert [n.part.number for n in repair.parts_to_order] == ["P-PAD"]
    # Booked labour counts flat-rate times: 1.5 h × 300 + pads 400 = 850, plus 10 % tax.
    assert repair.total == Decimal("935.00")
    assert [ln.quantity for ln in repair.jobs[0].job.lines] == [Decimal("1.50"), Decimal("1")]
    concern = serviced.jobs[1]
    assert concern.words == "刹车有异响"
    assert concern.details == {"when": "冷车启动", "where": "前部"}
    needs = {n.part.number: n for n in prep.parts}
    assert set(needs) == {"P-FLT", "P-PAD", "P-WIP"}
    assert needs["P-PAD"].to_order == 1
    assert needs["P-PAD"].expected_on == prep.today + timedelta(3)
    assert needs["P-FLT"].expected_on is None
    assert not needs["P-FLT"].must_order
    assert prep.parts[0].part.number == "P-PAD"  # what must be ordered comes first
    assert prep.technicians == 1
    assert prep.capacity_hours == Decimal("7.00")
    assert prep.booked_hours == Decimal("1.5")  # the bookings' own hours (0.5 + 1.0)
    assert prep.flagged == 1


@pytest.mark.http_layer
async def test_the_page_prints_in_both_languages_and_a_get_changes_nothing(
    client, db, settings, users
) -> None:
    world = await arrange(db, settings)
    before = await _counts(db)
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/appointments/tomorrow")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    orders = page.select("[data-testid=prefilled-order]")
    assert [int(o["data-appointment"]) for o in orders] == [world.serviced, world.repair]
    assert orders[1].get("data-must-order") == "1"
    assert orders[0].get("data-must-order") is None
    assert "需订购" in orders[1].text or "订购" in orders[1].text
    assert "一万公里保养" in orders[0].text
    assert "LVVDB11B5ND000001" in orders[0].text
    assert page.select_one("[data-testid=part-need][data-order='1']")["data-part"] == "P-PAD"
    assert page.select_one("link[href*=tomorrow]") is not None  # the print stylesheet

    token = page.select_one("input[name=_csrf_token]")
    await client.post("/language", data={"locale": "en", "_csrf_token": token["value"]})
    english = html(await client.get(f"/appointments/tomorrow?day={world.day.isoformat()}"))
    assert "Parts to reserve" in english.text
    assert "10,000 km service" in english.text

    pdf = await client.get(f"/appointments/tomorrow?day={world.day.isoformat()}&format=pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    bad = await client.get("/appointments/tomorrow?day=tomorrow")
    assert bad.status_code == 422
    assert html(bad).select_one("#tomorrow-day[aria-invalid=true]") is not None
    assert await _counts(db) == before


@pytest.mark.http_layer
async def test_the_lane_board_marks_a_no_show_once_the_rule_holds_and_counts_it(
    client, db, settings, users
) -> None:
    world = await arrange(db, settings)
    appt = await db.get(Appointment, world.today)
    assert appt is not None
    late = Appointment(
        customer_id=appt.customer_id, vehicle_id=appt.vehicle_id, advisor_id=users[Role.ADVISOR],
        scheduled_at=utcnow() - timedelta(minutes=90), requested_work="常规保养",
    )  # fmt: skip
    db.add(late)
    await db.commit()
    late_id = late.id
    await sign_in(client, Role.ADVISOR)
    board = html(await client.get("/lane"))
    rows = {int(r["data-id"]): r for r in board.select("[data-testid=appointment]")}
    assert rows[late_id].select_one("[data-testid=mark-no-show]") is not None
    assert rows[world.today].select_one("[data-testid=mark-no-show]") is None
    # The booked jobs, short, on the board.
    assert "一万公里保养" in rows[world.today].select_one("[data-testid=booked-jobs]").text

    token = await csrf_token(client)
    arrived = await client.post(
        f"/lane/appointments/{world.repair}/arrived", data={"_csrf_token": token}
    )
    assert arrived.status_code == 303
    kinds = (await db.scalars(select(AppointmentChange.kind).where(
        AppointmentChange.appointment_id == world.repair))).all()  # fmt: skip
    assert kinds == ["arrived"]
    await db.rollback()  # end the read: the app writes next
    early = await client.post(
        f"/lane/appointments/{world.today}/no-show", data={"_csrf_token": token}
    )
    assert early.status_code == 409
    done = await client.post(f"/lane/appointments/{late_id}/no-show", data={"_csrf_token": token})
    assert done.status_code == 303
    await db.rollback()
    db.expire_all()
    marked = await db.get(Appointment, late_id)
    assert marked is not None
    assert marked.status == AppointmentStatus.NO_SHOW
    untouched = await db.get(Appointment, world.today)
    assert untouched is not None
    assert untouched.status == AppointmentStatus.BOOKED
    board = html(await client.get("/lane"))
    assert board.select_one("[data-testid=flag-counts]")["data-no-shows"] == "1"
    row = board.select_one(f"[data-testid=appointment][data-id='{late_id}']")
    assert row.select_one("[data-testid=mark-no-show]") is None


@pytest.fixture(name="sqlite_only")
def fx_sqlite_only(backend) -> None:  # type: ignore[no-untyped-def]
    """Before any database is made: the demo's calls are the booking service's own, which
    its tests run on both databases."""
    if backend.name == "postgresql":
        pytest.skip("the demo loader runs once, on SQLite")


async def test_the_demo_books_the_coming_week_through_the_booking_service(
    sqlite_only, db, settings
) -> None:
    await demo_data.load(db, settings.tz, on_site=False)
    await db.commit()
    now = utcnow()
    booked = await demo_bookings.week(db, settings, now)
    await db.commit()
    days = demo_bookings.working_days(tomorrow.default_day(now, settings.tz), demo_bookings.DAYS)
    per_day = {day: len(await tomorrow.bookings_on(db, day, settings.tz)) for day in days}
    assert all(5 <= n <= 10 for n in per_day.values()), per_day
    assert booked == sum(per_day.values()) + 1  # the cancelled one no longer stands
    kinds = (await db.scalars(select(AppointmentChange.kind))).all()
    assert kinds.count("moved") == 1
    assert kinds.count("cancelled") == 1
    sources = set((await db.scalars(select(AppointmentJob.source))).all())
    assert sources == {"menu", "concern", "declined", "manual"}
    shop = await db.scalar(select(Dealership))
    prep = await tomorrow.load(db, shop, days[0], settings.tz, now, "zh_CN")
    assert [n.part.number for n in prep.parts if n.must_order] == ["P-BATT"]
    assert prep.flagged == 1
    assert await demo_bookings.week(db, settings, now) == 0  # loading again books nothing
