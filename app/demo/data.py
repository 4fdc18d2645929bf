"""Demo data for a first look and for the e2e tests. Idempotent: the static
records are created once, and today's appointments are topped up each run,
with four cars already on site the first time (see app.demo.workshop).

Long because it is data: the demo's people, cars and stories, written out so a reader
sees what the demo holds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import bookings as demo_bookings
from app.demo import complaints as demo_complaints
from app.demo import follow_ups as demo_follow_ups
from app.demo import health_checks as demo_health_checks
from app.demo import reminders as demo_reminders
from app.demo import workshop as demo_workshop
from app.models import (
    Appointment,
    AppointmentSource,
    Customer,
    Dealership,
    FollowUpTask,
    LabourOperation,
    MenuPackage,
    MenuPackageItem,
    Part,
    Recommendation,
    Role,
    StaffUser,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.passwords import hash_password
from app.services.lane_board.board import day_bounds
from app.services.staff import sign_in as auth
from app.services.storage.files import FileStore
from app.services.vin import with_check_digit
from app.settings import Settings

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo sign-in, never used in production
DEMO_DEALERSHIP_CODE = "DEMO"
DEMO_CURRENCY = "CNY"  # Settings.currency's default
DEMO_USERS: tuple[tuple[str, str, Role, str], ...] = (
    ("advisor", "王晓明", Role.ADVISOR, "zh_CN"),
    ("technician", "李强", Role.TECHNICIAN, "zh_CN"),
    ("foreman", "张建国", Role.FOREMAN, "zh_CN"),
    ("qc", "刘芳", Role.QC_INSPECTOR, "zh_CN"),
    ("relations", "陈静", Role.CUSTOMER_RELATIONS, "zh_CN"),
    ("manager", "赵伟", Role.SERVICE_MANAGER, "zh_CN"),
    ("admin", "Admin", Role.ADMIN, "en"),
)
APPOINTMENTS_PER_DAY = 12
CUSTOMER_COUNT = 30

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
)
# (make, model, WMI, VDS stem, colours); the year of data (bench/year) draws from them too.
MODELS = (
    ("Chery", "Tiggo 8 Pro", "LVV", "DB21B", ("白色", "黑色", "银色")),
    ("Chery", "Arrizo 8", "LVV", "DC11A", ("灰色", "红色", "白色")),
    ("Toyota", "Camry", "LVG", "BE46K", ("白色", "黑色", "香槟金")),
    ("Toyota", "RAV4", "LVG", "CA4FV", ("蓝色", "白色", "灰色")),
    ("Peugeot", "408", "LDC", "943X4", ("红色", "白色", "黑色")),
    ("Peugeot", "5008", "LDC", "753Y2", ("银色", "灰色", "白色")),
)
YEAR_CODES = {2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R"}
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on Chinese plates
_REQUESTS = (
    "常规保养",
    "更换机油机滤",
    "刹车有异响",
    "空调不凉",
    "发动机故障灯亮",
    "10000公里保养",
    "轮胎换位",
    "冷车启动抖动",
    "雨刮更换",
    "转向有异响",
)

_DECLINED = (
    "建议更换前刹车片（剩余 3 mm）",
    "建议更换空调滤芯",
    "建议做四轮定位",
    "建议更换雨刮片",
    "建议更换蓄电池（启动电压偏低）",
)

_CALL_TIMES = ("afternoon", "morning", "evening", "any")

LABOUR = (
    ("L-OIL", "更换机油及机滤", "Engine oil and filter change", "0.5"),
    ("L-ROT", "轮胎换位", "Tyre rotation", "0.4"),
    ("L-BRKF", "更换前刹车片", "Replace front brake pads", "1.2"),
    ("L-ALN", "四轮定位", "Wheel alignment", "1.0"),
    ("L-AC", "空调系统检查及加注", "A/C system check and recharge", "1.0"),
    ("L-DIAG", "电脑诊断", "Electronic diagnosis", "0.5"),
    ("L-BATT", "更换蓄电池", "Replace battery", "0.3"),
    ("L-SPK", "更换火花塞", "Replace spark plugs", "0.8"),
    ("L-AIRF", "更换空气滤芯", "Replace air filter", "0.2"),
    ("L-CABF", "更换空调滤芯", "Replace cabin filter", "0.2"),
    ("L-BFL", "更换刹车油", "Replace brake fluid", "0.8"),
    ("L-TYRE", "更换轮胎（含动平衡）", "Replace tyre (balancing included)", "0.4"),
    ("L-BRKR", "更换后刹车片", "Replace rear brake pads", "1.0"),
)
PARTS = (
    ("P-OILF", "机油滤清器", "Oil filter", "48.00", 40),
    ("P-OIL4", "全合成机油 5W-30 4L", "Synthetic engine oil 5W-30 4 L", "368.00", 25),
    ("P-AIRF", "空气滤芯", "Air filter", "85.00", 18),
    ("P-CABF", "空调滤芯", "Cabin filter", "96.00", 15),
    ("P-BRKF", "前刹车片", "Front brake pads", "480.00", 6),
    ("P-SPK", "火花塞", "Spark plug", "65.00", 32),
    ("P-BATT", "蓄电池 60Ah", "Battery 60 Ah", "720.00", 0),
    ("P-WIPER", "雨刮片（对）", "Wiper blades (pair)", "138.00", 12),
    ("P-BFL", "刹车油 DOT4 1L", "Brake fluid DOT4 1 L", "78.00", 10),
    ("P-TYRE", "轮胎 205/55 R16", "Tyre 205/55 R16", "680.00", 8),
    ("P-BRKR", "后刹车片", "Rear brake pads", "420.00", 4),
)
MENUS = (
    (
        "M-5K",
        "5000公里基础保养",
        "5,000 km basic service",
        5000,
        6,
        (("L-OIL", None, "1"), (None, "P-OILF", "1"), (None, "P-OIL4", "1")),
    ),
    (
        "M-10K",
        "10000公里保养",
        "10,000 km service",
        10000,
        12,
        (
            ("L-OIL", None, "1"),
            (None, "P-OILF", "1"),
            (None, "P-OIL4", "1"),
            ("L-ROT", None, "1"),
            ("L-AIRF", None, "1"),
            (None, "P-AIRF", "1"),
            ("L-CABF", None, "1"),
            (None, "P-CABF", "1"),
        ),
    ),
    (
        "M-40K",
        "40000公里保养",
        "40,000 km service",
        40000,
        48,
        (
            ("L-OIL", None, "1"),
            (None, "P-OILF", "1"),
            (None, "P-OIL4", "1"),
            ("L-SPK", None, "1"),
            (None, "P-SPK", "4"),
            ("L-BFL", None, "1"),
            (None, "P-BFL", "1"),
        ),
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    created_static: bool
    appointments_added: int


@cache
def _demo_password_hash() -> str:
    # One argon2 hash (salted once) serves every demo user: argon2 is slow on purpose.
    return hash_password(DEMO_PASSWORD)


def _vin(rng: random.Random, wmi: str, vds: str, year: int) -> str:
    serial = f"{rng.randrange(1, 999999):06d}"
    return with_check_digit(f"{wmi}{vds}0{YEAR_CODES[year]}{rng.choice('ABCDEFGH')}{serial}")


def _plate(rng: random.Random) -> str:
    tail = "".join(rng.choice("0123456789" + PLATE_LETTERS) for _ in range(4))
    return f"粤B{rng.choice(PLATE_LETTERS)}{tail}"


async def _create_static(session: AsyncSession, tz: ZoneInfo) -> None:
    rng = random.Random(20261122)  # noqa: S311 - reproducible demo data, not security
    session.add(
        Dealership(
            code=DEMO_DEALERSHIP_CODE,
            name="示范汽车服务中心 Demo Motors",
            address="广东省深圳市南山区科技园路 8 号",
            phone="0755-8888 6666",
            labour_rate=Decimal("180.00"),
            tax_rate=Decimal("0.1300"),
        )
    )
    for username, name, role, locale in DEMO_USERS:
        if not await auth.find_by_username(session, username):
            await auth.create_user(
                session,
                username,
                DEMO_PASSWORD,
                name,
                {role},
                locale=locale,
                password_hash=_demo_password_hash(),
            )
    labour = {
        code: LabourOperation(
            code=code,
            name_zh=zh,
            name_en=en,
            flat_rate_hours=Decimal(h),
            labour_rate=Decimal("180.00"),
        )
        for code, zh, en, h in LABOUR
    }
    parts = {
        number: Part(number=number, name_zh=zh, name_en=en, price=Decimal(p), stock_on_hand=s)
        for number, zh, en, p, s in PARTS
    }
    session.add_all([*labour.values(), *parts.values()])
    for code, zh, en, km, months, items in MENUS:
        session.add(
            MenuPackage(
                code=code,
                name_zh=zh,
                name_en=en,
                interval_km=km,
                interval_months=months,
                items=[
                    MenuPackageItem(
                        labour_operation=labour[op] if op else None,
                        part=parts[pn] if pn else None,
                        quantity=Decimal(q),
                    )
                    for op, pn, q in items
                ],
            )
        )
    used_names: set[str] = set()
    now = utcnow()
    for i in range(CUSTOMER_COUNT):
        name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        while name in used_names:
            name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        used_names.add(name)
        customer = Customer(
            name=name, phone=f"13{rng.randrange(100000000, 999999999)}", locale="zh_CN"
        )
        make, model, wmi, vds, colours = MODELS[i % len(MODELS)]
        year = rng.choice(sorted(YEAR_CODES))
        odometer = (2026 - year) * rng.randrange(9000, 16000) + rng.randrange(0, 900)
        customer.vehicles.append(
            Vehicle(
                vin=_vin(rng, wmi, vds, year),
                plate=_plate(rng),
                make=make,
                model=model,
                year=year,
                colour=rng.choice(colours),
                last_odometer_km=odometer,
                last_odometer_at=now - timedelta(days=rng.randrange(60, 300)),
            )
        )
        session.add(customer)
    await session.flush()
    await _history(session, rng, now)


async def _history(session: AsyncSession, rng: random.Random, now: datetime) -> None:
    """A past visit for every third car, some with a recommendation the customer declined."""
    vehicles = (await session.scalars(select(Vehicle).order_by(Vehicle.id))).all()
    for n, vehicle in enumerate(vehicles[::3], start=1):
        visited = now - timedelta(days=rng.randrange(90, 200))
        order = WorkOrder(
            number=f"WO{visited:%Y%m%d}-H{n:03d}",
            status=WorkOrderStatus.DELIVERED,
            customer_id=vehicle.customer_id,
            vehicle_id=vehicle.id,
            created_at=visited,
            delivered_at=visited + timedelta(hours=5),
        )
        session.add(order)
        await session.flush()
        # The follow-up call after it: when the customer likes to be called (the greeting shows it).
        session.add(FollowUpTask(
            work_order_id=order.id, customer_id=order.customer_id, vehicle_id=vehicle.id,
            due_at=visited + timedelta(days=3), status="reached",
            closed_at=visited + timedelta(days=2),
            phone=vehicle.customer.phone, contact_name=vehicle.customer.name,
            preferred_when=_CALL_TIMES[n % len(_CALL_TIMES)],
        ))  # fmt: skip
        if n % 2:
            session.add(Recommendation(
                vehicle_id=vehicle.id, work_order_id=order.id, created_at=visited,
                declined_at=visited, text=rng.choice(_DECLINED),
            ))  # fmt: skip


async def _top_up_today(
    session: AsyncSession,
    tz: ZoneInfo,
    now: datetime,
    currency: str,
    on_site: bool,
    store: FileStore | None,
) -> int:
    """Today's appointments, and the cars on site the first time (if wanted)."""
    start, end = day_bounds(now, tz)
    existing = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.scheduled_at >= start, Appointment.scheduled_at < end
        )
    )
    missing = APPOINTMENTS_PER_DAY - (existing or 0)
    if missing <= 0:
        return 0
    rng = random.Random(start.toordinal())  # noqa: S311 - reproducible demo data
    vehicles = list((await session.scalars(select(Vehicle).order_by(Vehicle.id))).all())
    advisor = (
        await session.scalars(select(StaffUser).where(StaffUser.username == "advisor"))
    ).one_or_none()
    # Every third booking a returning customer who declined work last time: the
    # greeting has a last visit, its declined work and a time to call to show.
    declined = set(
        (await session.scalars(
            select(Recommendation.vehicle_id).where(Recommendation.declined_at.is_not(None))
        )).all()
    )  # fmt: skip
    wanted = min(missing, len(vehicles))
    returning = [v for v in vehicles if v.id in declined]
    back = rng.sample(returning, k=min(len(returning), wanted // 3))
    picks = rng.sample([v for v in vehicles if v.id not in declined], k=wanted - len(back))
    for n, vehicle in enumerate(back):
        picks.insert(3 * n + 1, vehicle)
    day = start.date()
    for slot, vehicle in enumerate(picks):
        local = datetime.combine(day, time(8, 30), tzinfo=tz) + timedelta(minutes=40 * slot)
        session.add(
            Appointment(
                customer_id=vehicle.customer_id,
                vehicle_id=vehicle.id,
                advisor_id=advisor.id if advisor else None,
                scheduled_at=local,
                requested_work=rng.choice(_REQUESTS),
                source=rng.choice(list(AppointmentSource)),
            )
        )
    # A few cars already on site, taken through check-in, signature and the
    # workshop, so the boards, the final check and delivery have real orders.
    if on_site and not await session.scalar(
        select(func.count(WorkOrder.id)).where(WorkOrder.status != WorkOrderStatus.DELIVERED)
    ):
        crew = await demo_workshop.Crew.find(
            session, {role: username for username, _name, role, _locale in DEMO_USERS}
        )
        if crew is not None:
            cars = [v for v in vehicles if v not in picks][: len(demo_workshop.STORIES)]
            await demo_workshop.on_site(session, cars, crew, tz, now, day, currency, store)
    return len(picks)


async def load(
    session: AsyncSession,
    tz: ZoneInfo,
    now: datetime | None = None,
    currency: str = DEMO_CURRENCY,
    *,
    on_site: bool = True,
    store: FileStore | None = None,
    history: bool = False,
    settings: Settings | None = None,
) -> DemoSummary:
    """The demo: dealership, staff, catalogue, customers and today's appointments,
        and (`on_site`) four cars already on site, signed in `currency` (Settings.currency),
        with their check-in photos kept in `store` (none without one). Without the cars a
        load is quicker and leaves no open orders, signatures or inspections. `history` (with
    the cars on site) adds two months of past visits and the cars due for service
    (app.demo.history.month), as `serve --demo` shows them; tests leave it out. With
    `settings` the coming week is booked through the booking service (app.demo.bookings)."""
    now = now or utcnow()
    exists = await session.scalar(
        select(Dealership.id).where(Dealership.code == DEMO_DEALERSHIP_CODE)
    )
    if not exists:
        await _create_static(session, tz)
    added = await _top_up_today(session, tz, now, currency, on_site, store)
    await session.flush()
    if on_site:
        # A month of follow-up calls in every state, logged through the real services, and
        # complaints in every state on those orders (static loads, as tests use, stay lean).
        await demo_follow_ups.month(session, tz, now, currency)
        await demo_complaints.seed(session, tz, now)
        if history:
            # After the calls and complaints: those stay on the cars they were written for.
            from app.demo.history import month as demo_history  # it reads this module's data

            await demo_history.month(session, tz, now, currency, store)
        # A few cars due for a service, inspection or insurance reminder.
        await demo_reminders.seed(session, tz, now)
        # A car whose file has three visits and two health checks.
        await demo_health_checks.seed(session, now)
    if settings is not None:
        # The coming week's bookings, through the real service (calendar, tomorrow's list).
        await demo_bookings.week(session, settings, now)
    return DemoSummary(created_static=not exists, appointments_added=added)
