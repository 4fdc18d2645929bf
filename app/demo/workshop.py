"""The demo's cars already on site, taken through the real flow by the demo
staff: check-in, estimate, the customer's signature, then the workshop.

Every step goes through the services the tablets use, so the board, the
technician's jobs, the final check and the delivery page find what a real
morning would leave: a completed check-in, priced jobs, a verifiable
signature, dispatched and clocked work, the three checks. Only the clock is
the demo's own: each car's story happened over the last few hours.


Long because each car's story is walked step by step through the real services."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import pictures
from app.models import (
    REQUIRED_COVERS,
    STEPS,
    CheckIn,
    Dealership,
    JobTask,
    LabourOperation,
    Part,
    Photo,
    PhotoPosition,
    Role,
    StaffUser,
    Step,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import fields, symptoms, walkaround
from app.services.check_in import steps as check_ins
from app.services.estimate import editing, pricing, terms
from app.services.final_check import inspection as final_check
from app.services.photos import receive as photos
from app.services.photos.pipeline import process_photo
from app.services.photos.store import store_photo
from app.services.reminders import projection as odometer_projection
from app.services.signing import signatures
from app.services.staff import sign_in as auth
from app.services.storage.files import FileStore
from app.services.workshop import checklist
from app.services.workshop import jobs as workshop

DEVICE = "demo-tablet"
LOCALE = "zh_CN"
# Minutes each check-in step took, in STEPS order (greeting, covers, walkaround, symptoms).
STEP_MINUTES = (3, 2, 9, 7)
# Kilometres the QC inspector's road test adds (within final_check.ROAD_TEST_KM).
ROAD_TEST_KM = 6


@dataclass(frozen=True)
class Crew:
    """The demo staff who work the on-site cars."""

    advisor: Actor
    technician: Actor
    foreman: Actor
    qc: Actor

    @classmethod
    async def find(cls, session: AsyncSession, usernames: Mapping[Role, str]) -> Crew | None:
        """The staff with these usernames as actors, or None if one is missing."""
        actors: dict[Role, Actor] = {}
        for role in (Role.ADVISOR, Role.TECHNICIAN, Role.FOREMAN, Role.QC_INSPECTOR):
            user = await auth.find_by_username(session, usernames[role])
            if user is None or not user.is_active or role not in user.roles:
                return None
            actors[role] = _actor(user)
        return cls(
            actors[Role.ADVISOR],
            actors[Role.TECHNICIAN],
            actors[Role.FOREMAN],
            actors[Role.QC_INSPECTOR],
        )


def _actor(user: StaffUser) -> Actor:
    return Actor(
        user.id, device_id=f"{DEVICE}-{user.username}", roles=frozenset(r.value for r in user.roles)
    )


@dataclass(frozen=True)
class Planned:
    title: str | None  # None: the job opened for the customer's concern
    labour: str  # labour operation code
    part: str  # part number
    quantity: str = "1"


@dataclass(frozen=True)
class Story:
    """One car's morning: what the customer said, the work sold, and how far
    the workshop got. Times are minutes before now; None: not reached."""

    status: WorkOrderStatus  # where the story leaves the order
    concern: str
    answers: dict[str, str]  # 5W2H
    jobs: tuple[Planned, ...]
    km_driven: int  # since the vehicle's last recorded reading
    fuel_eighths: int
    arrived: int
    signed: int
    dispatched: int | None = None
    started: int | None = None  # the first job; the others follow it
    finished: int | None = None  # the last job
    mutual_checked: int | None = None
    inspected: int | None = None
    mark: tuple[float, float, str, str] | None = None  # x, y, kind, note


# In work order number order: 0001 in the workshop, 0002 waiting for dispatch,
# 0003 waiting for the final check, 0004 ready for delivery.
STORIES = (
    Story(
        WorkOrderStatus.IN_PROGRESS,
        "刹车时前面有异响",
        {"what": "异响", "when": "刹车时", "where": "前轮", "who": "客户本人驾驶",
         "why": "不清楚", "how": "尖锐的摩擦声", "how_much": "经常"},
        (Planned(None, "L-BRKF", "P-BRKF"), Planned("更换机油及机滤", "L-OIL", "P-OILF")),
        km_driven=3140, fuel_eighths=5, arrived=95, signed=65, dispatched=60, started=50,
        mark=(0.22, 0.31, "scratch", "左前门轻微划痕"),
    ),
    Story(
        WorkOrderStatus.SIGNED,
        "空调不凉，出风有异味",
        {"what": "空调制冷差", "when": "开空调时", "where": "车内", "who": "客户本人驾驶",
         "why": "不清楚", "how": "出风不凉、有霉味", "how_much": "一直"},
        (Planned(None, "L-AC", "P-CABF"),),
        km_driven=2210, fuel_eighths=3, arrived=50, signed=20,
        mark=(0.5, 0.31, "chip", "前挡风玻璃小崩点"),
    ),
    Story(
        WorkOrderStatus.QC,
        "到了保养里程，换机油",
        {"what": "定期保养", "when": "仪表提示保养", "where": "发动机", "who": "客户本人驾驶",
         "why": "保养到期", "how": "保养提示灯亮", "how_much": "一次"},
        (Planned(None, "L-OIL", "P-OIL4"), Planned("更换空气滤芯", "L-AIRF", "P-AIRF")),
        km_driven=4870, fuel_eighths=6, arrived=210, signed=180, dispatched=175, started=165,
        finished=70, mutual_checked=45,
        mark=(0.71, 0.64, "dent", "右后翼子板小凹陷"),
    ),
    Story(
        WorkOrderStatus.READY,
        "冷车启动时发动机抖动",
        {"what": "抖动", "when": "冷车启动", "where": "发动机舱", "who": "客户本人驾驶",
         "why": "不清楚", "how": "怠速抖、转速表波动", "how_much": "每天早上"},
        (Planned(None, "L-SPK", "P-SPK", "4"),),
        km_driven=3560, fuel_eighths=4, arrived=270, signed=240, dispatched=235, started=225,
        finished=170, mutual_checked=95, inspected=50,
        mark=(0.82, 0.6, "scratch", "右后门把手处划痕"),
    ),
)  # fmt: skip


def number(day: date, n: int) -> str:
    return f"WO{day:%Y%m%d}-{n:04d}"


def _clock(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz)


def promised_time(
    day: date, n: int, now: datetime, tz: ZoneInfo, opens: str = "08:30", closes: str = "18:00"
) -> datetime:
    """Within the workshop's opening hours: 15:00 to 17:00 by order or, once that has
    passed, two to four hours on; after closing time, the next morning (an hour to three
    after opening), so a car is never promised for when nobody is there to hand it over."""
    local = datetime.combine(day, time(15 + n % 3, 0), tzinfo=tz)
    if local >= now + timedelta(hours=1) and local <= _clock(day, closes, tz):
        return local
    this_hour = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    later = this_hour + timedelta(hours=2 + n % 3)
    today = this_hour.date()
    if _clock(today, opens, tz) <= later <= _clock(today, closes, tz):
        return later
    morning = today if later < _clock(today, opens, tz) else today + timedelta(days=1)
    return _clock(morning, opens, tz) + timedelta(hours=1 + n % 3)


# -- the customer's signature --------------------------------------------------------------


def ink(seed: str, width: int = 480, height: int = 160) -> tuple[str, str]:
    """A handwritten-looking signature as the tablet posts it: signature_pad's
    toData() JSON (strokes of {x, y, time} points) and a PNG data URL."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible drawing, not security
    strokes: list[list[tuple[float, float]]] = []
    x = 40.0 + rng.uniform(0, 20)
    for _word in range(rng.choice((2, 3))):
        # A cursive run: loops rolling to the right (a prolate cycloid), each
        # its own height (tall like an l, short like an e), slanted forward.
        loops = rng.randint(3, 5)
        radius = rng.uniform(14, 20)
        pace = rng.uniform(8, 11)
        base = height / 2 + 10 + rng.uniform(-8, 8)
        heights = [rng.choice((0.7, 1.0, 1.6, 2.0)) for _loop in range(loops)]
        points = []
        for i in range(loops * 14 + 1):
            t = i / 14 * 2 * math.pi
            r = radius * heights[min(i // 14, loops - 1)]
            y = base - (radius + r) / 2 * (1 + math.cos(t)) * 0.9 + radius * 0.4
            points.append((x + pace * t - radius * 0.8 * math.sin(t) + (base - y) * 0.35, y))
        strokes.append(points)
        x = points[-1][0] + rng.uniform(18, 30)
    # The flourish under the name.
    y = height - 30 + rng.uniform(-6, 6)
    strokes.append(
        [(40 + (x - 40) * k / 12, y - 6 * math.sin(k / 12 * math.pi)) for k in range(13)]
    )
    scale = min(1.0, (width - 20) / max(px for s in strokes for px, _py in s))
    strokes = [[(round(px * scale, 1), round(py, 1)) for px, py in s] for s in strokes]
    clock = 1000
    data = []
    for stroke in strokes:
        points_json = []
        for px, py in stroke:
            points_json.append({"x": px, "y": py, "time": clock, "pressure": 0.5})
            clock += 16
        data.append({"points": points_json})
        clock += 280  # the pen lifts
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=(20, 24, 60, 255), width=3, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return json.dumps(data), "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# -- the flow --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """The stories' minutes before now; squeezed to fit since midnight when the
    demo loads in the small hours, so today's orders began today."""

    now: datetime
    factor: float = 1.0

    @classmethod
    def today(cls, now: datetime, day: date, tz: ZoneInfo) -> Clock:
        midnight = datetime.combine(day, time.min, tzinfo=tz)
        longest = timedelta(minutes=max(s.arrived for s in STORIES) + 5)
        return cls(now, min(1.0, (now - midnight) / longest))

    def ago(self, minutes: float) -> datetime:
        return self.now - timedelta(minutes=minutes * self.factor)


def _backdate(check_in: CheckIn, vehicle: Vehicle, story: Story, clock: Clock) -> None:
    """The check-in happened earlier, not as the demo loads: its times are set
    to the story's before the customer signs the record that shows them."""
    check_in.arrived_at = clock.ago(story.arrived)
    start = story.arrived - 2  # minutes ago
    check_in.started_at = check_in.work_order.created_at = clock.ago(start)
    ends: dict[str, tuple[float, float]] = {}
    for step, minutes in zip(STEPS, STEP_MINUTES, strict=True):
        ends[step.value] = (start, start - minutes)
        start -= minutes
    for timing in check_in.timings:
        began, ended = ends[timing.step]
        timing.started_at, timing.ended_at = clock.ago(began), clock.ago(ended)
    for cover in check_in.covers:
        cover.installed_at = clock.ago(ends[Step.COVERS.value][0] - 1)
    for mark in check_in.damage_marks:
        mark.created_at = clock.ago(ends[Step.WALKAROUND.value][0] - 3)
    for concern in check_in.concerns:
        concern.created_at = clock.ago(ends[Step.SYMPTOMS.value][0] - 1)
    check_in.summary_confirmed_at = clock.ago(start + 1)
    check_in.completed_at = vehicle.last_odometer_at = clock.ago(start)


async def _photos(
    session: AsyncSession, check_in: CheckIn, vehicle: Vehicle, mark_id: int | None,
    story: Story, store: FileStore, actor: Actor,
) -> None:  # fmt: skip
    """One picture per walkaround position and one of the damage, received through the
    real pipeline (processed, stored by content, recorded) as the tablet sends them."""
    odometer = check_in.odometer_km or 0
    prefix = f"demo-{check_in.work_order.number}"
    shots: list[tuple[str, str, str, bytes]] = []  # client id, position, mark, JPEG
    for position in PhotoPosition:
        if position != PhotoPosition.EXTRA:
            picture = pictures.draw(position.value, vehicle.colour, vehicle.plate, odometer)
            shots.append((f"{prefix}-{position.value}", position.value, "", pictures.jpeg(picture)))
    if mark_id is not None and story.mark is not None:
        _x, _y, kind, note = story.mark
        picture = pictures.close_up(kind, note, vehicle.colour)
        shots.append((f"{prefix}-mark", "", str(mark_id), pictures.jpeg(picture)))
    # The files first, all at once (their disk syncs overlap), so that receiving them one
    # by one, as a tablet sends them, finds each already stored: start-up stays quick.
    await asyncio.gather(*(asyncio.to_thread(_store, store, data) for *_, data in shots))
    for client_id, where, mark, data in shots:
        await photos.receive(
            session, check_in, client_id=client_id, position=where, damage_mark_id=mark,
            data=data, store=store, actor=actor,
        )  # fmt: skip


def _store(store: FileStore, data: bytes) -> None:
    store_photo(store, process_photo(data))


async def _check_in(
    session: AsyncSession,
    vehicle: Vehicle,
    story: Story,
    wanted_number: str,
    crew: Crew,
    store: FileStore | None = None,
) -> CheckIn:
    """A walk-in taken through every step, as the advisor does it at the car."""
    advisor = crew.advisor
    opened = await check_ins.start_walk_in(session, vehicle.id, advisor)
    # As the next request would see it: its collections loaded (they load eagerly).
    check_in = await session.get(CheckIn, opened.id, populate_existing=True)
    assert check_in is not None  # noqa: S101  (just flushed)
    order = check_in.work_order
    taken = await session.scalar(select(WorkOrder.id).where(WorkOrder.number == wanted_number))
    if taken is None:
        order.number = wanted_number
        await session.flush()
    phone = vehicle.customer.phone
    await fields.save(
        session, check_in, Step.GREETING,
        {"contact_phone": phone, "contact_confirmed": "1", "follow_up_accepted": "1",
         "follow_up_phone": phone, "follow_up_when": "afternoon"},
        check_in.version, vehicle, advisor,
    )  # fmt: skip
    await check_ins.finish_step(session, check_in, Step.GREETING, check_in.version, advisor)
    for cover in REQUIRED_COVERS:
        await check_ins.toggle_cover(session, check_in, cover.value, check_in.version, advisor)
    await check_ins.finish_step(session, check_in, Step.COVERS, check_in.version, advisor)
    # The story's km on from the last reading, or where the car's own pace has taken it
    # since (a car last seen months ago has run further: the check-in would ask).
    found = await odometer_projection.for_vehicle(session, ZoneInfo("UTC"), vehicle.id)
    projected = found.km_on(utcnow().date()) if found.from_history else None
    last = max(vehicle.last_odometer_km or 0, projected or 0)
    await fields.save(
        session, check_in, Step.WALKAROUND,
        {"exterior_accessories_ok": "1", "glass_ok": "1", "onboard_tools_present": "1",
         "spare_tyre_present": "1", "warning_triangle_present": "1", "valuables_advised": "1",
         "warning_lights": [], "odometer_km": str(last + story.km_driven),
         "fuel_eighths": str(story.fuel_eighths)},
        check_in.version, vehicle, advisor,
    )  # fmt: skip
    mark_id = None
    if story.mark:
        x, y, kind, note = story.mark
        mark = await walkaround.add_mark(session, check_in, x, y, check_in.version, advisor)
        mark_id = mark.id
        await walkaround.save_mark(
            session, check_in, mark.id, {"kind": kind, "severity": "1", "note": note},
            check_in.version, advisor,
        )  # fmt: skip
    if store is not None:
        await _photos(session, check_in, vehicle, mark_id, story, store, advisor)
    await check_ins.finish_step(session, check_in, Step.WALKAROUND, check_in.version, advisor)
    concern = await symptoms.add_concern(
        session, check_in, story.concern, check_in.version, advisor
    )
    await symptoms.save_concern(
        session, check_in, concern.id, {"customer_words": story.concern, **story.answers},
        check_in.version, advisor,
    )  # fmt: skip
    await fields.save(
        session, check_in, Step.SYMPTOMS, {"road_test_consent": "1"},
        check_in.version, vehicle, advisor,
    )  # fmt: skip
    await symptoms.confirm_summary(session, check_in, check_in.version, advisor)
    await check_ins.finish_step(session, check_in, Step.SYMPTOMS, check_in.version, advisor)
    return check_in


async def _estimate(
    session: AsyncSession, order: WorkOrder, story: Story, promised: datetime, tz: ZoneInfo,
    at: datetime, crew: Crew,
) -> None:  # fmt: skip
    """The concern's job and any the advisor added, priced from the catalogue
    (labour and part), the promised time and the consents."""
    advisor = crew.advisor
    await editing.start(session, order, advisor)
    await session.flush()
    for plan in story.jobs:
        if plan.title is not None:
            await editing.add_job(session, order, plan.title, None, advisor)
    jobs = await pricing.order_jobs(session, order)
    today = at.astimezone(tz).date()
    for job, plan in zip(jobs, story.jobs, strict=True):
        labour = await session.scalar(
            select(LabourOperation.id).where(LabourOperation.code == plan.labour)
        )
        part = await session.scalar(select(Part.id).where(Part.number == plan.part))
        if labour is None or part is None:
            raise LookupError(f"demo catalogue has no {plan.labour} or {plan.part}")
        await editing.add_line(session, order, job.id, "labour", labour, None, None, advisor, today)
        await editing.add_line(
            session, order, job.id, "part", part, plan.quantity, None, advisor, today
        )
    local = promised.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    await terms.set_promised_at(session, order, local, tz, None, advisor, at)
    await terms.set_consent(session, order, "consent_keep_old_parts", True, None, advisor)
    await terms.set_consent(session, order, "consent_follow_up", True, None, advisor)


async def _ticked(session: AsyncSession, task: JobTask) -> dict[str, str]:
    """Each item of the job's check list ticked, as a careful technician does."""
    _task, job, order = await workshop.get_task(session, task.id)
    return checklist.every_item_done(checklist.items_for(job, order))


async def _workshop(
    session: AsyncSession, order: WorkOrder, story: Story, clock: Clock, crew: Crew
) -> None:
    """Dispatch, clocked work and the checks, as far as the story goes."""
    ago = clock.ago
    if story.dispatched is None:
        return
    tasks = [task for task, _job in await workshop.order_tasks(session, order.id)]
    for task in tasks:
        await workshop.dispatch(
            session, task.id, crew.technician.user_id, crew.foreman, ago(story.dispatched)
        )
    if story.started is None:
        return
    if story.finished is None:
        # The first job is on the ramp; the others wait their turn.
        await workshop.start(session, tasks[0].id, crew.technician, ago(story.started))
        return
    share = (story.started - story.finished) / len(tasks)
    for n, task in enumerate(tasks):
        begin = story.started - share * n
        end = begin - share + (2 if n + 1 < len(tasks) else 0)  # minutes to change over
        await workshop.start(session, task.id, crew.technician, ago(begin))
        await workshop.finish(session, task.id, crew.technician, ago(end))
        await workshop.self_check(
            session, task.id, crew.technician, ago(end - 1), form=await _ticked(session, task)
        )
    if story.mutual_checked is None:
        return
    for task in tasks:
        await workshop.mutual_check(
            session, task.id, crew.foreman, ago(story.mutual_checked),
            form=await _ticked(session, task),
        )  # fmt: skip
    if story.inspected is None:
        return
    state = await final_check.state(session, order.id)
    assert state.check_in is not None  # noqa: S101  (checked in above)
    await final_check.inspect(
        session, order.id, passed=True, ticked=state.items,
        odometer_km=str((state.check_in.odometer_km or 0) + ROAD_TEST_KM),
        fuel_eighths=str(state.check_in.fuel_eighths), reason_category=None, note=None,
        rework_job_ids=[], actor=crew.qc, now=ago(story.inspected),
    )  # fmt: skip


async def on_site(
    session: AsyncSession,
    vehicles: list[Vehicle],
    crew: Crew,
    tz: ZoneInfo,
    now: datetime,
    day: date,
    currency: str,
    store: FileStore | None = None,
) -> list[WorkOrder]:
    """One car per story, from check-in to where its story stops; with check-in photos
    when there is a `store` to keep them in."""
    clock = Clock.today(now, day, tz)
    shop = await session.scalar(select(Dealership).limit(1))
    hours = (shop.workshop_opens, shop.workshop_closes) if shop else ("08:30", "18:00")
    orders = []
    for n, (vehicle, story) in enumerate(zip(vehicles, STORIES, strict=False), start=1):
        check_in = await _check_in(session, vehicle, story, number(day, n), crew, store)
        order = check_in.work_order
        _backdate(check_in, vehicle, story, clock)
        walked = story.arrived - 2 - STEP_MINUTES[0] - STEP_MINUTES[1] - 1
        for photo in await session.scalars(select(Photo).where(Photo.check_in_id == check_in.id)):
            photo.uploaded_at = clock.ago(walked)
        signed_at = clock.ago(story.signed)
        promised = promised_time(day, n, now, tz, *hours)
        await _estimate(session, order, story, promised, tz, signed_at, crew)
        strokes, image = ink(f"{order.number}:{order.customer.name}")
        await signatures.sign_work_order(
            session, order, signer_name=order.customer.name, strokes_json=strokes,
            image_data_url=image, locale=order.customer.locale or LOCALE, currency=currency,
            version=None, actor=crew.advisor, now=signed_at,
        )  # fmt: skip
        await session.flush()
        orders.append(order)
    # The workshop in the order it happened: the technician's clock runs on one job
    # at a time, so the job still on the ramp is started last.
    stories = sorted(zip(orders, STORIES, strict=False), key=lambda pair: -(pair[1].started or 0))
    for order, story in stories:
        await _workshop(session, order, story, clock, crew)
        if order.status != story.status:
            raise RuntimeError(f"demo order {order.number} is {order.status}, not {story.status}")
        await session.flush()
    return orders
