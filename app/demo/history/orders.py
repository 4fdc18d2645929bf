"""One delivered work order of `bench.year` as rows: what the lane, the workshop, the
final check and the delivery would have left, the way app/demo/workshop.py walks a car
through them (the same statuses, checks and times in the same order)."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.history import content as year_content
from app.demo.history import people as year_people
from app.demo.history.content import Shop
from app.models import (
    REQUIRED_COVERS,
    STEPS,
    Base,
    JobSource,
    LabourOperation,
    LineKind,
    Part,
    PhotoPosition,
    PhotoStage,
    SignatureKind,
    TaskStatus,
    WorkOrderStatus,
)
from app.services.final_check.inspection import ITEMS
from app.services.photos.pipeline import process_photo
from app.services.photos.store import store_photo
from app.services.signing.content import canonical_json, sha256_hex
from app.services.signing.ink import Ink
from app.services.signing.signatures import seal
from app.services.storage.files import FileStore

Rows = defaultdict[str, list[dict[str, Any]]]
# Every mapped class by its table, for `insert(Model)`.
MODELS: dict[str, Any] = {
    mapper.local_table.name: mapper.class_ for mapper in Base.registry.mappers
}
WALKAROUND = [p for p in PhotoPosition if p is not PhotoPosition.EXTRA]
STORED_PHOTOS = 4
CANCELLED_SHARE = 0.01
DEVICE = "year-tablet"
LOCALE = "zh_CN"


@dataclass
class Ids:
    """The next primary key per table: rows carry their ids, so children can name them."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass(frozen=True)
class Line:
    kind: str
    ref: int
    code: str
    name_zh: str
    name_en: str
    price: Decimal
    hours: Decimal


@dataclass(frozen=True)
class Catalogue:
    """The demo's labour operations paired with a part, as estimate lines."""

    pairs: list[tuple[Line, Line]]

    @classmethod
    async def load(cls, session: AsyncSession) -> Catalogue:
        labour = {op.code: op for op in await session.scalars(select(LabourOperation))}
        parts = {p.number: p for p in await session.scalars(select(Part))}
        wanted = [("L-OIL", "P-OILF"), ("L-BRKF", "P-BRKF"), ("L-AC", "P-CABF"),
                  ("L-SPK", "P-SPK"), ("L-AIRF", "P-AIRF"), ("L-BATT", "P-BATT"),
                  ("L-BFL", "P-BFL"), ("L-CABF", "P-CABF")]  # fmt: skip
        pairs = []
        for code, number in wanted:
            op, part = labour[code], parts[number]
            pairs.append((
                Line(LineKind.LABOUR.value, op.id, op.code, op.name_zh, op.name_en,
                     op.labour_rate, op.flat_rate_hours),
                Line(LineKind.PART.value, part.id, part.number, part.name_zh, part.name_en,
                     part.price, Decimal("1")),
            ))  # fmt: skip
        return cls(pairs)


@dataclass(frozen=True)
class Visit:
    arrived: dt.datetime
    number: str
    vehicle: dict[str, Any]
    phone: str
    customer_name: str
    odometer_km: int
    advisor: int
    technician: int
    inspector: int


def stored_photos(store: FileStore) -> list[tuple[str, int, int]]:
    """A few real photos in the photo store: (sha256, width, height) for the rows."""
    out = []
    for n in range(STORED_PHOTOS):
        image = Image.new("RGB", (800, 600), (90 + 30 * n, 120, 150))
        draw = ImageDraw.Draw(image)
        draw.rectangle((150, 250, 650, 450), fill=(40 + 50 * n, 40, 60))
        draw.ellipse((220, 400, 320, 500), fill=(20, 20, 20))
        draw.ellipse((480, 400, 580, 500), fill=(20, 20, 20))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        processed = process_photo(buffer.getvalue())
        store_photo(store, processed)
        out.append((processed.sha256, processed.width, processed.height))
    return out


def _ink(rng: random.Random) -> tuple[list[Any], bytes]:
    """A small signature: strokes as signing.ink keeps them, and its PNG."""
    points = [[20 + 8 * k, 30 + rng.uniform(-10, 10), 16 * k] for k in range(20)]
    image = Image.new("RGBA", (200, 60), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(x, y) for x, y, _t in points], fill=(20, 24, 60, 255), width=2)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return [points], buffer.getvalue()


INKS: list[tuple[list[Any], bytes]] = [_ink(random.Random(n)) for n in range(8)]  # noqa: S311


def _signature_row(
    ids: Ids, rng: random.Random, visit: Visit, order_id: int, kind: SignatureKind,
    at: dt.datetime, record: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """As `signing.signatures` seals it: canonical JSON, its hash, and the seal over the
    ink, the signer, the time and the device."""
    strokes, png = rng.choice(INKS)
    body = canonical_json(record).decode()
    content_hash = sha256_hex(body.encode())
    name = visit.customer_name
    return {
        "id": ids.take("signature"), "work_order_id": order_id, "supplement_id": None,
        "kind": kind.value, "decision": "signed", "signer_name": name, "signed_at": at,
        "device_id": DEVICE, "user_agent": "", "staff_id": visit.advisor, "locale": LOCALE,
        "strokes": strokes, "image_png": png, "image_sha256": sha256_hex(png),
        "content": body, "content_hash": content_hash,
        "seal_hash": seal(content_hash, Ink(strokes, png), name, at, DEVICE),
    }  # fmt: skip


def _sign(
    rows: Rows, ids: Ids, rng: random.Random, shop: Shop, visit: Visit,
    marks: dict[str, int], delivery_row: dict[str, Any],
) -> None:  # fmt: skip
    """The work order's and the delivery's signatures over the records the app builds."""

    def mine(table: str) -> list[dict[str, Any]]:
        return rows[table][marks[table] :]

    job_rows = mine("job")
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in mine("job_line"):
        lines[line["job_id"]].append(line)
    order_row = rows["work_order"][-1]
    held = year_content.OrderRows(
        order=order_row, customer={"name": visit.customer_name, "phone": visit.phone},
        vehicle=visit.vehicle, check_in=rows["check_in"][-1], covers=mine("cover_install"),
        belongings=mine("belonging"), marks=mine("damage_mark"), concerns=mine("concern"),
        photos=mine("photo"), jobs=[(job, lines[job["id"]]) for job in job_rows],
        inspections=mine("inspection"), delivery=delivery_row,
    )  # fmt: skip
    signed = _signature_row(ids, rng, visit, order_row["id"], SignatureKind.WORK_ORDER,
                            order_row["signed_at"],
                            year_content.work_order(held, shop, LOCALE))  # fmt: skip
    handed = _signature_row(
        ids,
        rng,
        visit,
        order_row["id"],
        SignatureKind.DELIVERY,
        order_row["delivered_at"],
        year_content.delivery(held, shop, LOCALE, signed["content_hash"]),
    )
    rows["signature"] += [signed, handed]
    delivery_row["signature_id"] = handed["id"]


def _check_in(
    rows: Rows, ids: Ids, rng: random.Random, visit: Visit, order_id: int,
    photos: list[tuple[str, int, int]],
) -> tuple[int, int, str]:  # fmt: skip
    """The check-in's rows; returns its id, the concern's and the customer's words."""
    t0 = visit.arrived
    check_in_id = ids.take("check_in")
    minutes = (3, 2, 9, 7)
    done = t0 + dt.timedelta(minutes=2 + sum(minutes))
    rows["check_in"].append({
        "id": check_in_id, "work_order_id": order_id, "advisor_id": visit.advisor,
        "arrived_at": t0, "started_at": t0 + dt.timedelta(minutes=2), "completed_at": done,
        "step": STEPS[-1].value, "version": 30, "contact_phone": visit.phone,
        "contact_confirmed": True, "follow_up_accepted": rng.random() < 0.8,
        "follow_up_phone": visit.phone, "follow_up_when": rng.choice(("morning", "afternoon")),
        "covers_skip_reason": "", "exterior_accessories_ok": True, "glass_ok": True,
        "onboard_tools_present": True, "spare_tyre_present": rng.random() < 0.9,
        "warning_triangle_present": True, "valuables_advised": True, "warning_lights": [],
        "odometer_km": visit.odometer_km, "odometer_jump_confirmed": False,
        "fuel_eighths": rng.randrange(1, 9), "road_test_consent": rng.random() < 0.7,
        "summary_confirmed_at": done - dt.timedelta(minutes=1), "created_at": t0,
    })  # fmt: skip
    at = t0 + dt.timedelta(minutes=2)
    for step, length in zip(STEPS, minutes, strict=True):
        rows["step_timing"].append({
            "id": ids.take("step_timing"), "check_in_id": check_in_id, "step": step.value,
            "started_at": at, "ended_at": at + dt.timedelta(minutes=length),
        })  # fmt: skip
        at += dt.timedelta(minutes=length)
    for cover in REQUIRED_COVERS:
        rows["cover_install"].append({
            "id": ids.take("cover_install"), "check_in_id": check_in_id, "kind": cover.value,
            "installed_at": t0 + dt.timedelta(minutes=4), "installed_by_id": visit.advisor,
        })  # fmt: skip
    if rng.random() < 0.3:
        kind = rng.choice(year_people.BELONGINGS)
        rows["belonging"].append(
            {"id": ids.take("belonging"), "check_in_id": check_in_id, "kind": kind, "count": 1}
        )
    photo_at = t0 + dt.timedelta(minutes=8)
    for position in WALKAROUND:
        _photo(rows, ids, rng, photos, check_in_id, visit, photo_at, position.value, None)
    for _mark in range(rng.choice((0, 0, 1, 1, 2))):
        mark_id = ids.take("damage_mark")
        rows["damage_mark"].append({
            "id": mark_id, "check_in_id": check_in_id, "x": round(rng.random(), 4),
            "y": round(rng.random(), 4), "kind": rng.choice(("scratch", "dent", "chip")),
            "severity": rng.choice((1, 1, 2)), "note": rng.choice(year_people.DAMAGE_NOTES),
            "created_by_id": visit.advisor, "created_at": photo_at,
        })  # fmt: skip
        _photo(rows, ids, rng, photos, check_in_id, visit, photo_at, "extra", mark_id)
    words, what, when, where = rng.choice(year_people.CONCERNS)
    concern_id = ids.take("concern")
    rows["concern"].append({
        "id": concern_id, "check_in_id": check_in_id, "customer_words": words, "what": what,
        "when": when, "where": where, "who": "客户本人驾驶", "why": "不清楚", "how": "",
        "how_much": "", "created_at": done - dt.timedelta(minutes=3),
    })  # fmt: skip
    return check_in_id, concern_id, words


def _photo(
    rows: Rows, ids: Ids, rng: random.Random, photos: list[tuple[str, int, int]],
    check_in_id: int, visit: Visit, at: dt.datetime, position: str, mark_id: int | None,
    stage: PhotoStage = PhotoStage.CHECK_IN,
) -> None:  # fmt: skip
    sha, width, height = rng.choice(photos)
    photo_id = ids.take("photo")
    rows["photo"].append({
        "id": photo_id, "client_id": f"year-{photo_id}", "check_in_id": check_in_id,
        "stage": stage.value, "position": position, "damage_mark_id": mark_id,
        "new_damage_id": None, "supplement_id": None, "sha256": sha, "width": width,
        "height": height, "bytes_received": 150_000 + photo_id % 90_000,
        "source_format": "JPEG", "uploaded_at": at, "uploaded_by_id": visit.advisor,
    })  # fmt: skip


def _jobs(
    rows: Rows, ids: Ids, rng: random.Random, catalogue: Catalogue, visit: Visit, order_id: int,
    concern_id: int, words: str, at: dt.datetime, declined_at: dt.datetime,
) -> list[tuple[int, dict[str, Any]]]:  # fmt: skip
    """1-3 priced jobs; returns (job id, record) of each, the declined ones last."""
    out = []
    for n in range(rng.choice((1, 1, 2, 2, 3))):
        labour, part = rng.choice(catalogue.pairs)
        declined = n > 0 and rng.random() < 0.15
        job_id = ids.take("job")
        source = JobSource.CONCERN.value if n == 0 else JobSource.MANUAL.value
        title = words if n == 0 else labour.name_zh
        rows["job"].append({
            "id": job_id, "work_order_id": order_id, "supplement_id": None,
            "concern_id": concern_id if n == 0 else None, "menu_package_id": None,
            "source": source, "title": title, "warranty": rng.random() < 0.05,
            "declined_at": declined_at if declined else None, "created_at": at,
        })  # fmt: skip
        lines = []
        for line in (labour, part):
            quantity = line.hours if line.kind == LineKind.LABOUR.value else Decimal("1")
            rows["job_line"].append({
                "id": ids.take("job_line"), "job_id": job_id, "kind": line.kind,
                "labour_operation_id": line.ref if line.kind == LineKind.LABOUR.value else None,
                "part_id": line.ref if line.kind == LineKind.PART.value else None,
                "code": line.code, "name_zh": line.name_zh, "name_en": line.name_en,
                "quantity": quantity, "list_price": line.price, "unit_price": line.price,
                "override_reason": "", "expected_on": None,
            })  # fmt: skip
            lines.append({"code": line.code, "quantity": str(quantity), "price": str(line.price)})
        out.append((job_id, {"title": title, "declined": declined, "lines": lines}))
        if declined:
            rows["recommendation"].append({
                "id": ids.take("recommendation"), "vehicle_id": visit.vehicle["id"],
                "work_order_id": order_id, "supplement_id": None,
                "text": f"建议{labour.name_zh}", "safety": False, "declined_at": declined_at,
                "created_at": declined_at,
            })  # fmt: skip
    return out


def order(
    rows: Rows, ids: Ids, rng: random.Random, catalogue: Catalogue,
    photos: list[tuple[str, int, int]], shop: Shop, visit: Visit,
) -> None:  # fmt: skip
    """A work order from arrival to follow-up (or cancelled at the check-in)."""
    marks = {table: len(rows[table]) for table in MODELS}
    t0 = visit.arrived
    order_id = ids.take("work_order")
    vehicle = visit.vehicle
    appointment_id = None
    if rng.random() < 0.6:
        appointment_id = ids.take("appointment")
        rows["appointment"].append({
            "id": appointment_id, "customer_id": vehicle["customer_id"],
            "vehicle_id": vehicle["id"], "advisor_id": visit.advisor,
            "scheduled_at": t0 - dt.timedelta(minutes=rng.randrange(-20, 30)),
            "requested_work": "常规保养", "source": rng.choice(("active", "passive")),
            "status": "checked_in", "arrived_at": t0, "notes": "",
            "created_at": t0 - dt.timedelta(days=rng.randrange(1, 10)),
        })  # fmt: skip
    check_in_id, concern_id, words = _check_in(rows, ids, rng, visit, order_id, photos)
    cancelled = rng.random() < CANCELLED_SHARE
    signed = t0 + dt.timedelta(minutes=rng.randrange(35, 60))
    promised = signed + dt.timedelta(hours=rng.randrange(2, 6))
    delivered = promised - dt.timedelta(minutes=rng.randrange(0, 40))
    base = {
        "id": order_id,
        "number": visit.number,
        "customer_id": vehicle["customer_id"],
        "vehicle_id": vehicle["id"],
        "advisor_id": visit.advisor,
        "appointment_id": appointment_id,
        "created_at": t0,
        "discount_amount": Decimal("0"),
        "discount_reason": "",
        "discount_by_id": None,
        "customer_mode_since": None,
        "customer_waiting": rng.random() < 0.2,
        "rework_count": 0,
        "version": 40,
    }
    if cancelled:
        rows["work_order"].append(base | {
            "status": WorkOrderStatus.CANCELLED, "updated_at": t0 + dt.timedelta(minutes=30),
            "signed_at": None, "promised_at": None, "delivered_at": None,
            "consent_road_test": None, "consent_keep_old_parts": None, "consent_follow_up": None,
        })  # fmt: skip
        return
    rework = rng.random() < 0.03
    rows["work_order"].append(base | {
        "status": WorkOrderStatus.DELIVERED, "updated_at": delivered + dt.timedelta(minutes=1),
        "signed_at": signed, "promised_at": promised, "delivered_at": delivered,
        "consent_road_test": True, "consent_keep_old_parts": rng.random() < 0.3,
        "consent_follow_up": True, "rework_count": int(rework),
    })  # fmt: skip
    jobs = _jobs(rows, ids, rng, catalogue, visit, order_id, concern_id, words,
                 t0 + dt.timedelta(minutes=25), signed)  # fmt: skip
    work = [job_id for job_id, record in jobs if not record["declined"]]
    start = signed + dt.timedelta(minutes=10)
    share = max(dt.timedelta(minutes=20), (promised - start - dt.timedelta(minutes=60)) / len(work))
    for job_id in work:
        task_id = ids.take("job_task")
        end = start + share
        rows["job_task"].append({
            "id": task_id, "job_id": job_id, "work_order_id": order_id,
            "status": TaskStatus.FINISHED.value, "technician_id": visit.technician,
            "dispatched_at": signed + dt.timedelta(minutes=5), "dispatched_by_id": None,
            "rework": False, "rework_note": "", "self_checked_at": end,
            "mutual_checked_at": end + dt.timedelta(minutes=10),
            "mutual_checked_by_id": visit.inspector, "version": 6, "created_at": signed,
        })  # fmt: skip
        rows["time_entry"].append({
            "id": ids.take("time_entry"), "task_id": task_id, "technician_id": visit.technician,
            "started_at": start, "finished_at": end,
        })  # fmt: skip
        start = end + dt.timedelta(minutes=2)
    inspected = delivered - dt.timedelta(minutes=30)
    for round_ in range(1, 2 + int(rework)):
        passed = round_ > 1 or not rework
        rows["inspection"].append({
            "id": ids.take("inspection"), "work_order_id": order_id,
            "inspector_id": visit.inspector, "round": round_, "passed": passed,
            "ticked": list(ITEMS) if passed else list(ITEMS[1:]),
            "odometer_km": visit.odometer_km + 6, "fuel_eighths": None,
            "reason_category": "" if passed else "workmanship",
            "note": "" if passed else "复检", "rework_job_ids": [] if passed else work[:1],
            "created_at": inspected - dt.timedelta(minutes=40 * (2 - round_)),
        })  # fmt: skip
    for position in ("front", "rear"):
        _photo(rows, ids, rng, photos, check_in_id, visit, delivered, position, None,
               PhotoStage.DELIVERY)  # fmt: skip
    delivery_row = {
        "id": ids.take("delivery"), "work_order_id": order_id, "advisor_id": visit.advisor,
        "advice": "下次保养请提前预约",
        "next_service_on": (delivered + dt.timedelta(days=180)).date(),
        "next_service_km": visit.odometer_km + 5000, "old_parts_shown": True,
        "signature_id": None, "delivered_at": delivered, "created_at": delivered,
    }  # fmt: skip
    _sign(rows, ids, rng, shop, visit, marks, delivery_row)
    rows["delivery"].append(delivery_row)
    rows["follow_up_task"].append({
        "id": ids.take("follow_up_task"), "work_order_id": order_id,
        "due_at": delivered + dt.timedelta(days=3), "phone": visit.phone, "call_allowed": True,
        "preferred_when": "afternoon", "status": "open", "details": {"rework_count": int(rework)},
        "created_at": delivered,
    })  # fmt: skip


async def analyze(session: AsyncSession) -> None:
    """PostgreSQL's planner statistics, as autovacuum would gather them in time after so
    many rows (without them it guesses, and scans: 20-30 ms for a look-up by an index).
    SQLite is left as the app leaves it (no ANALYZE)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("ANALYZE"))


async def fix_sequences(session: AsyncSession, ids: Ids) -> None:
    """Rows came with their ids: PostgreSQL's sequences move past them (SQLite needs none)."""
    if session.bind.dialect.name != "postgresql":
        return
    for table, next_id in ids.next.items():
        if next_id > 1:
            sequence = func.pg_get_serial_sequence(table, "id")
            await session.execute(select(func.setval(sequence, next_id - 1)))
