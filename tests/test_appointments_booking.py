"""The appointments core on both databases: the slot grid, an advisor's day, the workshop's
hours; every bad booking is refused with its field and changes nothing; moving and
cancelling keep the history and bump the version; the dealer system hears of each change;
the customer gets the confirmation and the day-before reminder in their own language;
two tablets booking the last slot at once: exactly one wins."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import write_intent
from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    Appointment,
    AppointmentChange,
    AuditEvent,
    Dealership,
    LabourOperation,
    MenuPackage,
    MenuPackageItem,
    OutboundMessage,
    Part,
    Recommendation,
    Role,
    StaffRole,
    StaffUser,
    WebhookEvent,
)
from app.services.appointments import booking, messages, slots
from app.services.appointments.booking import AlreadyBooked, BookingInput, SlotTaken
from app.services.appointments.estimate import JobInput
from app.services.audit import Actor
from tests.reminders_helpers import NOW, a_car, at

# For what does not depend on the database (texts, the grid's arithmetic): SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
COUNTED = (Appointment, AppointmentChange, WebhookEvent, OutboundMessage, AuditEvent)


async def _shop(db: AsyncSession, **values: object) -> Dealership:
    shop = Dealership(
        code="D1", name="星辰丰田", phone="020-88886666", address="广州市天河路1号", **values
    )
    db.add(shop)
    return shop


async def _advisor(db: AsyncSession, name: str) -> int:
    user = StaffUser(
        username=name.lower(), display_name=name, password_hash="x",
        role_rows=[StaffRole(role=Role.ADVISOR)],
    )  # fmt: skip
    db.add(user)
    await db.flush()
    return user.id


async def _package(db: AsyncSession, hours: str = "1.5") -> MenuPackage:
    op = LabourOperation(code="OIL", name_zh="更换机油", name_en="Oil change",
                         flat_rate_hours=Decimal(hours), labour_rate=Decimal("200"))  # fmt: skip
    part = Part(number="F-1", name_zh="机油滤清器", name_en="Oil filter", price=Decimal("80"))
    package = MenuPackage(
        code="M10", name_zh="10000公里保养", name_en="10,000 km service",
        interval_km=10_000, interval_months=12,
        items=[MenuPackageItem(labour_operation=op), MenuPackageItem(part=part)],
    )  # fmt: skip
    db.add(package)
    await db.flush()
    return package


def _input(vehicle_id: int, when: str = "2026-12-03T10:00", **values: object) -> BookingInput:
    data = BookingInput(
        vehicle_id=vehicle_id,
        advisor_id=None,
        starts_at=when,
        channel="phone",
        jobs=[JobInput(source="concern", title="刹车异响", customer_words="踩刹车时吱吱响")],
        bring=["service_book"],
    )
    return replace(data, **values)


async def _counts(db: AsyncSession) -> list[int]:
    return [await db.scalar(select(func.count(m.id))) or 0 for m in COUNTED]


@pytest.fixture(name="ctx")
async def fx_ctx(db, settings, users):  # type: ignore[no-untyped-def]
    """A dealership (capacity 2 a day), advisors Advisor and Bai, one technician (7 h a
    day), a car of a Chinese customer with a mobile number, and a menu package."""
    await _shop(db, advisor_daily_capacity=2)
    bai = await _advisor(db, "Bai")
    car = await a_car(db, 1, km=9_000)
    package = await _package(db)
    await db.commit()
    return {"car": car.id, "package": package.id, "advisor": users[Role.ADVISOR], "bai": bai,
            "actor": Actor(users[Role.ADVISOR])}  # fmt: skip


@SQLITE_ONLY
async def test_free_slots_are_the_next_on_the_grid_earliest_first(db, settings, ctx) -> None:
    any_two = await slots.free_slots(
        db, settings, after=NOW, advisor_id=None, labour_hours=Decimal("1"), now=NOW
    )
    # 10:00 has started: 10:30 with both advisors (by name: Advisor, then Bai).
    assert [(s.advisor_name, s.starts_at) for s in any_two] == [
        ("Advisor", at(12, 2, 10, 30)), ("Bai", at(12, 2, 10, 30)),
    ]  # fmt: skip
    bai = await slots.free_slots(
        db, settings, after=at(12, 2, 17, 0), advisor_id=ctx["bai"], labour_hours=Decimal("1"),
        now=NOW, count=3,
    )  # fmt: skip
    # The last slot ends at closing (18:00); then the next morning at opening.
    assert [s.starts_at for s in bai] == [at(12, 2, 17, 0), at(12, 2, 17, 30), at(12, 3, 8, 30)]


async def test_a_phone_booking_is_written_with_jobs_history_webhook_and_a_chinese_text(
    db, settings, ctx
) -> None:
    data = _input(
        ctx["car"],
        advisor_id=ctx["bai"],
        odometer_km=9_500,
        jobs=[
            JobInput(source="menu", title="10000公里保养", menu_package_id=ctx["package"]),
            JobInput(source="concern", title="刹车异响", customer_words="踩刹车时吱吱响"),
        ],
        bring=["wheel_lock_key", "service_book"],
    )
    done = await booking.book(db, settings, data, ctx["actor"], NOW)
    await db.commit()
    row = await db.get(Appointment, done.id)
    assert row is not None
    assert (row.status, row.channel, row.source, row.version) == ("booked", "phone", "passive", 1)
    assert row.scheduled_at == at(12, 3, 10)
    assert row.slot_key == f"{ctx['bai']}@20261203T0200"
    assert (row.labour_hours, row.estimate_amount) == (Decimal("1.50"), Decimal("380.00"))
    assert row.bring == "service_book,wheel_lock_key"
    assert [(j.source, j.title, j.labour_hours) for j in row.jobs] == [
        ("menu", "10000公里保养", Decimal("1.50")), ("concern", "刹车异响", Decimal("0.00")),
    ]  # fmt: skip
    assert row.confirmed_at == NOW
    changes = await booking.history(db, row.id)
    assert [c.kind for c in changes] == ["booked", "confirmation_sent"]
    assert (changes[0].to_at, changes[0].to_advisor_id, changes[0].by_id) == (
        at(12, 3, 10), ctx["bai"], ctx["advisor"],
    )  # fmt: skip
    event = await db.scalar(select(WebhookEvent))
    assert event is not None
    assert event.event_type == "appointment.booked"
    assert event.payload["data"] == {
        "appointment_id": row.id, "status": "booked", "starts_at": "2026-12-03T02:00:00Z",
        "vehicle": {"vin": None, "plate": "粤B00001"}, "advisor": {"id": ctx["bai"], "name": "Bai"},
        "external_ref": None, "jobs": ["10000公里保养", "刹车异响"], "version": 1,
    }  # fmt: skip
    (sms,) = (await db.scalars(select(OutboundMessage))).all()
    assert (sms.channel, sms.recipient, sms.status) == ("sms", "13900000001", "queued")
    assert sms.body == (
        "尊敬的车主1：您驾驶Toyota RAV4（粤B00001）到星辰丰田的预约已确认，时间为"
        "2026年12月3日星期四 10:00。\n"
        "您的服务顾问：Bai。\n"
        "请携带保养手册、轮毂防盗螺丝钥匙。\n"
        "地址：广州市天河路1号\n"
        "如需改约或取消，请致电020-88886666。"
    )
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.booked"))
    assert audit is not None


BAD = [
    ({"starts_at": "2026-12-02T09:30"}, "starts_at"),  # half an hour ago
    ({"starts_at": "2026-12-03T08:00"}, "starts_at"),  # before opening
    ({"starts_at": "2026-12-03T17:45"}, "starts_at"),  # off the grid, and ends after 18:00
    ({"starts_at": "2026-12-03T10:10"}, "starts_at"),  # off the grid
    ({"starts_at": "2027-07-01T10:00"}, "starts_at"),  # more than 180 days ahead
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"advisor_id": 999_999}, "advisor_id"),
    ({"advisor_id": "technician"}, "advisor_id"),  # not an advisor
    ({"vehicle_id": 999_999}, "vehicle_id"),
    ({"jobs": [], "notes": "  "}, "jobs"),
    ({"jobs": [JobInput(source="menu", title="", menu_package_id=999_999)]}, "jobs"),
    ({"jobs": [JobInput(source="declined", title="x", recommendation_id=999_999)]}, "jobs"),
    (
        {"jobs": [JobInput(source="manual", title="x", lines=[("part", 999_999, Decimal(1))])]},
        "jobs",
    ),
    ({"jobs": [JobInput(source="bogus", title="x")]}, "jobs"),
    ({"odometer_km": 8_000}, "odometer_km"),  # the car showed 9,000 km last time
    ({"bring": ["umbrella"]}, "bring"),
    ({"channel": "fax"}, "channel"),
]


async def test_every_bad_booking_is_refused_with_its_field_and_changes_nothing(
    db, settings, users, ctx
) -> None:
    # One booking stands already, so "nothing changed" is checked against a real day.
    await booking.book(db, settings, _input(ctx["car"], "2026-12-03T09:00"), ctx["actor"], NOW)
    await db.commit()
    before = await _counts(db)
    fields = []
    technician = {"advisor_id": users[Role.TECHNICIAN]}
    for bad, _field in BAD:
        change = technician if bad.get("advisor_id") == "technician" else bad
        data = replace(_input(ctx["car"]), **change)
        try:
            await booking.book(db, settings, data, ctx["actor"], NOW)
        except (InvalidInput, NotFound) as refused:
            fields.append(refused.field if refused.message else "no message")
        else:
            fields.append("booked!")
        await db.rollback()
        assert await _counts(db) == before, change
    assert fields == [f for _c, f in BAD]


@SQLITE_ONLY
async def test_declined_work_of_another_car_is_refused(db, settings, ctx) -> None:
    other = await a_car(db, 2)
    advice = Recommendation(vehicle_id=other.id, text="更换刹车片")
    db.add(advice)
    await db.commit()
    job = JobInput(source="declined", title="更换刹车片", recommendation_id=advice.id)
    with pytest.raises(InvalidInput) as refused:
        await booking.book(db, settings, _input(ctx["car"], jobs=[job]), ctx["actor"], NOW)
    assert refused.value.field == "jobs"


async def test_an_advisor_over_capacity_is_refused_with_the_next_two_slots(
    db, settings, ctx
) -> None:
    for when in ("2026-12-03T09:00", "2026-12-03T09:30"):
        await booking.book(
            db, settings, _input(ctx["car"], when, advisor_id=ctx["bai"]), ctx["actor"], NOW
        )
        await db.commit()
    before = await _counts(db)
    with pytest.raises(InvalidInput) as refused:
        await booking.book(
            db, settings, _input(ctx["car"], "2026-12-03T11:00", advisor_id=ctx["bai"]),
            ctx["actor"], NOW,
        )  # fmt: skip
    assert refused.value.field == "advisor_id"
    assert "Bai" in refused.value.message
    assert "2026年12月4日" in refused.value.message  # the next day's slots are offered
    await db.rollback()
    assert await _counts(db) == before
    # Any advisor: the other one has room.
    done = await booking.book(db, settings, _input(ctx["car"], "2026-12-03T11:00"),
                              ctx["actor"], NOW)  # fmt: skip
    assert done.advisor_id == ctx["advisor"]


async def test_a_taken_slot_offers_the_next_two_free_ones(db, settings, ctx) -> None:
    first = await booking.book(
        db, settings, _input(ctx["car"], advisor_id=ctx["bai"]), ctx["actor"], NOW
    )
    await db.commit()
    booked_at = first.scheduled_at
    with pytest.raises(SlotTaken) as taken:
        await booking.book(
            db, settings, _input(ctx["car"], advisor_id=ctx["bai"]), ctx["actor"], NOW
        )
    await db.rollback()
    assert [(o.advisor_id, o.starts_at) for o in taken.value.offers] == [
        (ctx["bai"], at(12, 3, 10, 30)), (ctx["bai"], at(12, 3, 11)),
    ]  # fmt: skip
    assert booked_at == at(12, 3, 10)


async def test_a_day_the_workshop_cannot_take_is_refused_and_skipped(db, settings, ctx) -> None:
    package = await _package_hours(db, "5")
    big = [JobInput(source="menu", title="大保养", menu_package_id=package.id)]
    await booking.book(db, settings, _input(ctx["car"], jobs=big), ctx["actor"], NOW)
    await db.commit()
    before = await _counts(db)
    with pytest.raises(InvalidInput) as refused:
        await booking.book(
            db, settings, _input(ctx["car"], "2026-12-03T14:00", jobs=big), ctx["actor"], NOW
        )
    assert refused.value.field == "starts_at"
    assert "5.00" in refused.value.message
    assert "7" in refused.value.message
    await db.rollback()
    assert await _counts(db) == before
    offers = await slots.free_slots(
        db, settings, after=at(12, 3, 14), advisor_id=None, labour_hours=Decimal("5"), now=NOW
    )
    assert [o.starts_at for o in offers] == [at(12, 4, 8, 30)] * 2


async def _package_hours(db: AsyncSession, hours: str) -> MenuPackage:
    op = LabourOperation(code=f"BIG{hours}", name_zh="大保养", name_en="Major service",
                         flat_rate_hours=Decimal(hours), labour_rate=Decimal("200"))  # fmt: skip
    package = MenuPackage(code=f"M-BIG{hours}", name_zh="大保养", name_en="Major service",
                          interval_km=40_000, interval_months=24,
                          items=[MenuPackageItem(labour_operation=op)])  # fmt: skip
    db.add(package)
    await db.commit()
    return package


async def test_moving_keeps_the_history_and_a_stale_version_is_refused(db, settings, ctx) -> None:
    done = await booking.book(db, settings, _input(ctx["car"]), ctx["actor"], NOW)
    await db.commit()
    moved = await booking.move(
        db, settings, done.id, 1, "2026-12-04T14:30", ctx["bai"], "客户改时间", ctx["actor"], NOW
    )
    await db.commit()
    assert (moved.version, moved.advisor_id, moved.scheduled_at) == (
        2,
        ctx["bai"],
        at(12, 4, 14, 30),
    )
    assert moved.slot_key == f"{ctx['bai']}@20261204T0630"
    kinds = [(c.kind, c.from_at, c.to_at, c.reason) for c in await booking.history(db, done.id)]
    assert kinds[2] == ("moved", at(12, 3, 10), at(12, 4, 14, 30), "客户改时间")
    assert kinds[3][0] == "confirmation_sent"
    texts = (await db.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id))).all()
    assert "已改到2026年12月4日星期五 14:30" in texts[1]
    types = (await db.scalars(select(WebhookEvent.event_type).order_by(WebhookEvent.id))).all()
    assert types == ["appointment.booked", "appointment.moved"]
    before = await _counts(db)
    with pytest.raises(Conflict):
        await booking.move(db, settings, done.id, 1, "2026-12-05T10:00", None, "", ctx["actor"],
                           NOW)  # fmt: skip
    await db.rollback()
    assert await _counts(db) == before
    # The old slot is free again.
    again = await booking.book(db, settings, _input(ctx["car"]), ctx["actor"], NOW)
    assert again.scheduled_at == at(12, 3, 10)


async def test_cancelling_frees_the_slot_and_a_cancelled_booking_stays_cancelled(
    db, settings, ctx
) -> None:
    done = await booking.book(db, settings, _input(ctx["car"], advisor_id=ctx["bai"]),
                              ctx["actor"], NOW)  # fmt: skip
    await db.commit()
    done_id, done_at = done.id, done.scheduled_at
    gone = await booking.cancel(db, done_id, 1, "客户出差", ctx["actor"], NOW, settings=settings)
    await db.commit()
    assert (gone.status, gone.slot_key, gone.version, gone.cancel_reason) == (
        "cancelled", None, 2, "客户出差",
    )  # fmt: skip
    notice = await db.scalar(select(OutboundMessage).order_by(OutboundMessage.id.desc()))
    assert notice is not None
    assert "已取消" in notice.body
    for attempt in (
        booking.cancel(db, done_id, None, "", ctx["actor"], NOW),
        booking.move(db, settings, done_id, None, "2026-12-04T10:00", None, "", ctx["actor"], NOW),
        booking.mark_no_show(db, settings, done_id, ctx["actor"], at(12, 3, 12)),
    ):
        with pytest.raises(Conflict):
            await attempt
        await db.rollback()
    again = await booking.book(db, settings, _input(ctx["car"], advisor_id=ctx["bai"]),
                               ctx["actor"], NOW)  # fmt: skip
    assert again.scheduled_at == done_at
    types = (await db.scalars(select(WebhookEvent.event_type).order_by(WebhookEvent.id))).all()
    assert types == ["appointment.booked", "appointment.cancelled", "appointment.booked"]


async def test_a_no_show_is_marked_only_once_the_lane_boards_rule_holds(db, settings, ctx) -> None:
    done = (await booking.book(db, settings, _input(ctx["car"]), ctx["actor"], NOW)).id
    await db.commit()
    with pytest.raises(Conflict):  # 59 minutes late: still only late
        await booking.mark_no_show(db, settings, done, ctx["actor"], at(12, 3, 10, 59))
    await db.rollback()
    marked = await booking.mark_no_show(db, settings, done, ctx["actor"], at(12, 3, 11))
    await db.commit()
    assert (marked.status, marked.no_show_at, marked.slot_key) == ("no_show", at(12, 3, 11), None)
    grid = await slots.day_grid(db, settings, date(2026, 12, 3), at(12, 3, 11))
    assert grid.no_shows == 1


@SQLITE_ONLY
async def test_a_reference_booked_before_answers_that_booking(db, settings, ctx) -> None:
    first = await booking.book(
        db, settings, _input(ctx["car"], external_ref="DMS-1", channel="api"), ctx["actor"],
        NOW, by_label="DMS",
    )  # fmt: skip
    await db.commit()
    before = await _counts(db)
    with pytest.raises(AlreadyBooked) as again:
        await booking.book(
            db, settings, _input(ctx["car"], "2026-12-04T10:00", external_ref="DMS-1"),
            ctx["actor"], NOW,
        )  # fmt: skip
    assert again.value.appointment.id == first.id
    await db.rollback()
    assert await _counts(db) == before


async def test_the_unique_slot_key_is_the_backstop(db, settings, ctx, monkeypatch) -> None:
    """Were the check ever to miss a booking, the database still refuses the slot."""
    await booking.book(db, settings, _input(ctx["car"], advisor_id=ctx["bai"]),
                       ctx["actor"], NOW)  # fmt: skip
    await db.commit()
    real = slots.booked_between

    async def blind(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = await real(*args, **kwargs)
        found.taken.clear()
        return found

    monkeypatch.setattr(slots, "booked_between", blind)
    with pytest.raises(SlotTaken) as taken:
        await booking.book(db, settings, _input(ctx["car"], advisor_id=ctx["bai"]),
                           ctx["actor"], NOW)  # fmt: skip
    assert len(taken.value.offers) == 2
    await db.rollback()
    assert await db.scalar(select(func.count(Appointment.id))) == 1


async def test_two_tablets_booking_the_last_slot_at_once_one_wins(
    session_maker: async_sessionmaker[AsyncSession], settings, ctx
) -> None:
    async with session_maker() as db:
        # Bai's last place that day: one booking already, capacity 2.
        first = _input(ctx["car"], "2026-12-03T09:00", advisor_id=ctx["bai"])
        await booking.book(db, settings, first, ctx["actor"], NOW)
        await db.commit()

    async def tablet() -> object:
        write_intent.set(True)  # as a POST request does
        async with session_maker() as session:
            try:
                done = await booking.book(
                    session, settings, _input(ctx["car"], advisor_id=ctx["bai"]),
                    ctx["actor"], NOW,
                )  # fmt: skip
                await session.commit()
                return done
            except SlotTaken as exc:
                await session.rollback()
                return exc

    results = await asyncio.gather(tablet(), tablet())
    won = [r for r in results if isinstance(r, Appointment)]
    lost = [r for r in results if isinstance(r, SlotTaken)]
    assert (len(won), len(lost)) == (1, 1)
    async with session_maker() as db:
        assert await db.scalar(select(func.count(Appointment.id))) == 2
        offers = lost[0].offers
        assert len(offers) == 2
        for offer in offers:  # each offer can in fact be booked
            local = offer.starts_at.astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
            data = _input(ctx["car"], local, advisor_id=offer.advisor_id)
            await booking.book(db, settings, data, ctx["actor"], NOW)
            await db.rollback()


@SQLITE_ONLY
async def test_an_english_customer_without_a_mobile_gets_an_english_email(
    db, settings, ctx
) -> None:
    car = await a_car(db, 7, locale="en", email="li@example.com")
    car.customer.phone = ""
    await db.commit()
    await booking.book(db, settings, _input(car.id, bring=["key"]), ctx["actor"], NOW)
    await db.commit()
    (mail,) = (await db.scalars(select(OutboundMessage))).all()
    assert (mail.channel, mail.recipient) == ("email", "li@example.com")
    assert mail.subject == "Your visit to 星辰丰田 is booked"
    assert mail.body == (
        "Dear 车主7, your visit to 星辰丰田 with your Toyota RAV4 (粤B00007) is booked for "
        "Thursday, December 3, 2026 10:00\u202fAM.\n"
        "Your service advisor: Advisor.\n"
        "Please bring the car key.\n"
        "Address: 广州市天河路1号\n"
        "To change or cancel, call 020-88886666.\n"
    )


async def test_the_day_before_reminder_goes_once_after_the_set_time(db, settings, ctx) -> None:
    done = await booking.book(db, settings, _input(ctx["car"]), ctx["actor"], NOW)
    later = await booking.book(db, settings, _input(ctx["car"], "2026-12-04T10:00"),
                               ctx["actor"], NOW)  # fmt: skip
    await db.commit()
    assert await messages.send_day_before(db, settings, at(12, 2, 16, 59)) == 0
    assert await messages.send_day_before(db, settings, at(12, 2, 17, 0)) == 1
    assert await messages.send_day_before(db, settings, at(12, 2, 17, 5)) == 0
    await db.commit()
    row = await db.get(Appointment, done.id)
    assert row is not None
    assert row.reminded_at == at(12, 2, 17, 0)
    assert (await db.get(Appointment, later.id)).reminded_at is None  # type: ignore[union-attr]
    body = await db.scalar(select(OutboundMessage.body).order_by(OutboundMessage.id.desc()))
    assert body is not None
    assert body.startswith("尊敬的车主1：提醒您，明天（2026年12月3日星期四 10:00）")
    assert [c.kind for c in await booking.history(db, done.id)][-1] == "reminder_sent"


@SQLITE_ONLY
async def test_the_day_grid_shows_each_advisors_slots_and_the_workshops_hours(
    db, settings, ctx
) -> None:
    done = await booking.book(
        db, settings,
        _input(ctx["car"], jobs=[JobInput(source="menu", title="保养",
                                             menu_package_id=ctx["package"])]),
        ctx["actor"], NOW,
    )  # fmt: skip
    await db.commit()
    grid = await slots.day_grid(db, settings, date(2026, 12, 3), at(12, 3, 9, 0))
    assert [a.name for a in grid.advisors] == ["Advisor", "Bai"]
    lane = grid.advisors[0]
    assert (lane.booked, lane.capacity, len(lane.cells)) == (1, 2, 19)
    held = [c for c in lane.cells if c.appointment is not None]
    assert [(c.starts_at, c.appointment.id) for c in held] == [(at(12, 3, 10), done.id)]  # type: ignore[union-attr]
    assert [c.past for c in lane.cells[:3]] == [True, True, False]
    assert (grid.workshop_booked_hours, grid.workshop_capacity_hours) == (
        Decimal("1.50"),
        Decimal("7.00"),
    )
    week = await slots.week_grid(db, settings, date(2026, 11, 30), NOW)
    assert [d.day for d in week] == [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]


@SQLITE_ONLY
async def test_the_remind_command_sends_tomorrows_reminders_once(db, settings, ctx, monkeypatch):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from app.cli import cli

    await booking.book(db, settings, _input(ctx["car"]), ctx["actor"], NOW)
    await db.commit()
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    evening = at(12, 2, 18).isoformat()
    outputs = [
        await asyncio.to_thread(runner.invoke, cli, ["appointments", "remind", "--at", evening])
        for _ in range(2)
    ]
    assert [(r.exit_code, r.output.strip()) for r in outputs] == [
        (0, "reminded 1"),
        (0, "reminded 0"),
    ]
    bad = await asyncio.to_thread(runner.invoke, cli, ["appointments", "remind", "--at", "soon"])
    assert bad.exit_code != 0
