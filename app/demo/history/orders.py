"""One delivered work order of history (the demo's months, `bench.year`) as rows: what the
lane, the workshop, the final check, the delivery and the follow-up call would have left,
the way app/demo/workshop.py walks a car through them (the same statuses, checks and times
in the same order), with the misses a real month has (`Variety`)."""

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
from app.services.follow_ups.questions import QUESTIONS
from app.services.photos.pipeline import process_photo
from app.services.photos.store import store_photo
from app.services.signing.content import canonical_json, sha256_hex
from app.services.signing.ink import Ink
from app.services.signing.signatures import seal
from app.services.storage.files import FileStore

Rows = defaultdict[str, list[dict[str, Any]]]
# Every mapped class by its table, for `insert(Model)`.
MODELS: dict[str, Any] = {
    mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers
}
WALKAROUND = [p for p in PhotoPosition if p is not PhotoPosition.EXTRA]
STORED_PHOTOS = 4
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
    # The promised time is no later than this (the workshop's evening), if given.
    closes_at: dt.datetime | None = None
    clerk: int | None = None  # who made the follow-up call
    # The next service agreed at delivery; 180 days and 5,000 km on by default.
    next_service: tuple[dt.date, int] | None = None
    device: str = DEVICE  # the tablet the customer signed on


@dataclass(frozen=True)
class Variety:
    """What real days hold besides the ideal visit: the share of orders drawn for each."""

    booked: float = 0.6
    cancelled: float = 0.01  # at the check-in
    greeted_late: float = 0.15  # waited 6-15 minutes for the advisor (else 1-4)
    late: float = 0.10  # ready after the time agreed
    promise_changed: float = 0.4  # of the late ones: a new time agreed by phone, missed too
    rework: float = 0.04  # the first final check failed
    supplement: float = 0.08  # added work approved: the bill is beyond the signed estimate
    called_on_time: float = 0.85  # the follow-up call first tried by its due time
    # Calls are made (and closed) before this moment; None leaves them open, as due.
    called_before: dt.datetime | None = None


FAILED_CHECKS = (
    ("workmanship", "右前轮螺栓扭矩不足，重新紧固"),
    ("incomplete", "空调滤芯未更换，补做"),
    ("cleanliness", "方向盘有油污，重新清洁"),
    ("parts", "机油滤清器渗油，更换新件"),
)
PROMISE_REASONS = ("配件未到，需等待调货", "检查发现追加项目，客户同意延后", "车间排队，技师延误")
FINDINGS = ("检查发现前刹车片磨损接近极限", "空调滤芯严重脏污", "蓄电池启动电压偏低")


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
    at: dt.datetime, record: dict[str, Any], decision: str = "signed",
    supplement_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """As `signing.signatures` seals it: canonical JSON, its hash, and the seal over the
    ink, the signer, the time and the device."""
    strokes, png = rng.choice(INKS)
    body = canonical_json(record).decode()
    content_hash = sha256_hex(body.encode())
    name = visit.customer_name
    return {
        "id": ids.take("signature"), "work_order_id": order_id, "supplement_id": supplement_id,
        "kind": kind.value, "decision": decision, "signer_name": name, "signed_at": at,
        "device_id": visit.device, "user_agent": "", "staff_id": visit.advisor,
        "locale": LOCALE, "strokes": strokes, "image_png": png, "image_sha256": sha256_hex(png),
        "content": body, "content_hash": content_hash,
        "seal_hash": seal(content_hash, Ink(strokes, png), name, at, visit.device),
    }  # fmt: skip


def _sign(
    rows: Rows, ids: Ids, rng: random.Random, shop: Shop, visit: Visit,
    marks: dict[str, int], delivery_row: dict[str, Any],
) -> None:  # fmt: skip
    """The work order's, each approved supplement's and the delivery's signatures over the
    records the app builds."""

    def mine(table: str) -> list[dict[str, Any]]:
        return rows[table][marks[table] :]

    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in mine("job_line"):
        lines[line["job_id"]].append(line)
    jobs = [(job, lines[job["id"]]) for job in mine("job")]
    order_row = rows["work_order"][-1]
    added = [
        (supplement, [(job, job_lines) for job, job_lines in jobs
                      if job["supplement_id"] == supplement["id"]])
        for supplement in mine("supplement")
    ]  # fmt: skip
    held = year_content.OrderRows(
        order=order_row, customer={"name": visit.customer_name, "phone": visit.phone},
        vehicle=visit.vehicle, check_in=rows["check_in"][-1], covers=mine("cover_install"),
        belongings=mine("belonging"), marks=mine("damage_mark"), concerns=mine("concern"),
        photos=mine("photo"), jobs=[pair for pair in jobs if pair[0]["supplement_id"] is None],
        inspections=mine("inspection"), delivery=delivery_row, added=added,
    )  # fmt: skip
    signed = _signature_row(ids, rng, visit, order_row["id"], SignatureKind.WORK_ORDER,
                            order_row["signed_at"],
                            year_content.work_order(held, shop, LOCALE))  # fmt: skip
    rows["signature"].append(signed)
    for supplement, _jobs_of in added:
        record = year_content.supplement(held, supplement, shop, LOCALE, signed["content_hash"])
        approved = _signature_row(
            ids, rng, visit, order_row["id"], SignatureKind.SUPPLEMENT, supplement["decided_at"],
            record, decision=supplement["status"], supplement_id=supplement["id"],
        )  # fmt: skip
        rows["signature"].append(approved)
        held.added_hashes.append(approved["content_hash"])
    handed = _signature_row(
        ids, rng, visit, order_row["id"], SignatureKind.DELIVERY, order_row["delivered_at"],
        year_content.delivery(held, shop, LOCALE, signed["content_hash"]),
    )  # fmt: skip
    rows["signature"].append(handed)
    delivery_row["signature_id"] = handed["id"]


@dataclass(frozen=True)
class CheckedIn:
    id: int
    concern_id: int
    words: str
    labour: str  # the operation that fixes it
    done: dt.datetime
    follow_up_accepted: bool
    follow_up_when: str


def _step_minutes(rng: random.Random) -> list[int]:
    """The four steps' minutes: 15-40 in all, shared as a walkaround shares them."""
    total, weights = rng.randrange(15, 41), (3, 2, 9, 7)
    minutes = [max(1, round(total * w / sum(weights))) for w in weights]
    minutes[2] += total - sum(minutes)
    return minutes


def _check_in(
    rows: Rows, ids: Ids, rng: random.Random, visit: Visit, order_id: int,
    photos: list[tuple[str, int, int]], greeted: int,
) -> CheckedIn:  # fmt: skip
    """The check-in's rows, the greeting `greeted` minutes after the arrival."""
    t0 = visit.arrived
    check_in_id = ids.take("check_in")
    minutes = _step_minutes(rng)
    begun = t0 + dt.timedelta(minutes=greeted)
    done = begun + dt.timedelta(minutes=sum(minutes))
    accepted, when = rng.random() < 0.8, rng.choice(("morning", "afternoon"))
    rows["check_in"].append({
        "id": check_in_id, "work_order_id": order_id, "advisor_id": visit.advisor,
        "arrived_at": t0, "started_at": begun, "completed_at": done,
        "step": STEPS[-1].value, "version": 30, "contact_phone": visit.phone,
        "contact_confirmed": True, "follow_up_accepted": accepted,
        "follow_up_phone": visit.phone, "follow_up_when": when,
        "covers_skip_reason": "", "exterior_accessories_ok": True, "glass_ok": True,
        "onboard_tools_present": True, "spare_tyre_present": rng.random() < 0.9,
        "warning_triangle_present": True, "valuables_advised": True, "warning_lights": [],
        "odometer_km": visit.odometer_km, "odometer_jump_confirmed": False,
        "fuel_eighths": rng.randrange(1, 9), "road_test_consent": rng.random() < 0.7,
        "summary_confirmed_at": done - dt.timedelta(minutes=1), "created_at": t0,
    })  # fmt: skip
    at = begun
    for step, length in zip(STEPS, minutes, strict=True):
        rows["step_timing"].append({
            "id": ids.take("step_timing"), "check_in_id": check_in_id, "step": step.value,
            "started_at": at, "ended_at": at + dt.timedelta(minutes=length),
        })  # fmt: skip
        at += dt.timedelta(minutes=length)
    for cover in REQUIRED_COVERS:
        rows["cover_install"].append({
            "id": ids.take("cover_install"), "check_in_id": check_in_id, "kind": cover.value,
            "installed_at": begun + dt.timedelta(minutes=2), "installed_by_id": visit.advisor,
        })  # fmt: skip
    if rng.random() < 0.3:
        kind = rng.choice(year_people.BELONGINGS)
        rows["belonging"].append(
            {"id": ids.take("belonging"), "check_in_id": check_in_id, "kind": kind, "count": 1}
        )
    photo_at = begun + dt.timedelta(minutes=minutes[0] + minutes[1])
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
    words, what, when_, where, labour = rng.choice(year_people.CONCERNS)
    concern_id = ids.take("concern")
    rows["concern"].append({
        "id": concern_id, "check_in_id": check_in_id, "customer_words": words, "what": what,
        "when": when_, "where": where, "who": "客户本人驾驶", "why": "不清楚", "how": "",
        "how_much": "", "created_at": done - dt.timedelta(minutes=3),
    })  # fmt: skip
    return CheckedIn(check_in_id, concern_id, words, labour, done, accepted, when)


def _photo(
    rows: Rows, ids: Ids, rng: random.Random, photos: list[tuple[str, int, int]],
    check_in_id: int, visit: Visit, at: dt.datetime, position: str, mark_id: int | None,
    stage: PhotoStage = PhotoStage.CHECK_IN,
) -> None:  # fmt: skip
    """A photo row on one of the stored files (none without a photo store)."""
    if not photos:
        return
    sha, width, height = rng.choice(photos)
    photo_id = ids.take("photo")
    rows["photo"].append({
        "id": photo_id, "client_id": f"year-{photo_id}", "check_in_id": check_in_id,
        "stage": stage.value, "position": position, "damage_mark_id": mark_id,
        "new_damage_id": None, "supplement_id": None, "sha256": sha, "width": width,
        "height": height, "bytes_received": 150_000 + photo_id % 90_000,
        "source_format": "JPEG", "uploaded_at": at, "uploaded_by_id": visit.advisor,
    })  # fmt: skip


def _job(
    rows: Rows, ids: Ids, order_id: int, pair: tuple[Line, Line], at: dt.datetime,
    **fields: Any,
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """One priced job (a labour line and its part); returns its id and a short record."""
    job_id = ids.take("job")
    labour = pair[0]
    rows["job"].append({
        "id": job_id, "work_order_id": order_id, "supplement_id": None, "concern_id": None,
        "menu_package_id": None, "source": JobSource.MANUAL.value, "title": labour.name_zh,
        "warranty": False, "declined_at": None, "created_at": at,
    } | fields)  # fmt: skip
    lines = []
    for line in pair:
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
    declined = fields.get("declined_at") is not None
    return job_id, {"title": rows["job"][-1]["title"], "declined": declined, "lines": lines,
                    "hours": labour.hours, "price": _price(pair)}  # fmt: skip


def _price(pair: tuple[Line, Line]) -> Decimal:
    labour, part = pair
    return labour.price * labour.hours + part.price


def _jobs(
    rows: Rows, ids: Ids, rng: random.Random, catalogue: Catalogue, visit: Visit, order_id: int,
    ci: CheckedIn, at: dt.datetime, declined_at: dt.datetime,
) -> list[tuple[int, dict[str, Any]]]:  # fmt: skip
    """1-3 priced jobs, the first the concern's fix; returns (job id, record) of each."""
    out: list[tuple[int, dict[str, Any]]] = []
    fix = next(p for p in catalogue.pairs if p[0].code == ci.labour)
    for n in range(rng.choice((1, 1, 2, 2, 3))):
        used = [job["lines"][0]["code"] for _id, job in out]
        pair = fix if n == 0 else rng.choice([p for p in catalogue.pairs if p[0].code not in used])
        declined = n > 0 and rng.random() < 0.15
        first = {"source": JobSource.CONCERN.value, "title": ci.words, "concern_id": ci.concern_id}
        out.append(_job(
            rows, ids, order_id, pair, at, warranty=rng.random() < 0.05,
            declined_at=declined_at if declined else None, **(first if n == 0 else {}),
        ))  # fmt: skip
        if declined:
            rows["recommendation"].append({
                "id": ids.take("recommendation"), "vehicle_id": visit.vehicle["id"],
                "work_order_id": order_id, "supplement_id": None,
                "text": f"建议{pair[0].name_zh}", "safety": False, "declined_at": declined_at,
                "created_at": declined_at,
            })  # fmt: skip
    return out


def _supplement(
    rows: Rows, ids: Ids, rng: random.Random, catalogue: Catalogue, visit: Visit,
    order_id: int, estimate: Decimal, found: dt.datetime,
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """Added work the technician found and the customer approved, worth well over 5 % of
    the estimate (so the bill no longer matches it); returns its job."""
    dearer = [p for p in catalogue.pairs if _price(p) > estimate * Decimal("0.07")]
    pair = rng.choice(dearer) if dearer else max(catalogue.pairs, key=_price)
    supplement_id = ids.take("supplement")
    rows["supplement"].append({
        "id": supplement_id, "work_order_id": order_id, "number": 1, "status": "approved",
        "note": rng.choice(FINDINGS), "requested_by_id": visit.technician, "category": None,
        "safety": False, "safety_statement": None, "withdrawn_at": None,
        "withdrawn_by_id": None, "withdrawn_reason": None, "promised_at": None,
        "sent_at": found + dt.timedelta(minutes=10), "decided_at": found + dt.timedelta(minutes=25),
        "token_hash": None, "token_expires_at": None, "token_used_at": None, "created_at": found,
    })  # fmt: skip
    return _job(rows, ids, order_id, pair, found, supplement_id=supplement_id,
                source=JobSource.FINDING.value)  # fmt: skip


@dataclass(frozen=True)
class Times:
    """When the order was signed, promised, agreed anew, ready (passed the final check)
    and handed over."""

    signed: dt.datetime
    promised: dt.datetime
    agreed: dt.datetime
    ready: dt.datetime
    delivered: dt.datetime


def _times(rng: random.Random, visit: Visit, done: dt.datetime, v: Variety) -> Times:
    signed = done + dt.timedelta(minutes=rng.randrange(5, 20))
    promised = signed + dt.timedelta(minutes=rng.randrange(120, 330))
    if visit.closes_at is not None:
        promised = max(signed + dt.timedelta(minutes=90), min(promised, visit.closes_at))
    late = rng.random() < v.late
    agreed = promised
    if late and rng.random() < v.promise_changed:
        agreed = promised + dt.timedelta(minutes=rng.randrange(60, 120))
    if late:
        ready = agreed + dt.timedelta(minutes=rng.randrange(10, 80))
        delivered = ready + dt.timedelta(minutes=rng.randrange(10, 30))
    else:
        ready = agreed - dt.timedelta(minutes=rng.randrange(30, 70))
        delivered = ready + dt.timedelta(minutes=rng.randrange(10, 30))
    return Times(signed, promised, agreed, ready, delivered)


def _workshop(
    rows: Rows, rng: random.Random, ids: Ids, visit: Visit, order_id: int,
    work: list[tuple[int, dict[str, Any]]], t: Times, rework: bool,
) -> None:  # fmt: skip
    """Each agreed job's task and clocked time (its flat-rate hours, beaten a little by
    the technician), in the time left before the final check."""
    start = t.signed + dt.timedelta(minutes=10)
    left = t.ready - start - dt.timedelta(minutes=55 if rework else 15)
    wanted = [record["hours"] * Decimal(str(rng.uniform(0.6, 1.0))) for _id, record in work]
    fit = min(1.0, left / dt.timedelta(hours=float(sum(wanted)) or 1))
    for (job_id, _record), hours in zip(work, wanted, strict=True):
        task_id = ids.take("job_task")
        end = start + max(dt.timedelta(minutes=6), dt.timedelta(hours=float(hours)) * fit)
        rows["job_task"].append({
            "id": task_id, "job_id": job_id, "work_order_id": order_id,
            "status": TaskStatus.FINISHED.value, "technician_id": visit.technician,
            "dispatched_at": t.signed + dt.timedelta(minutes=5), "dispatched_by_id": None,
            "rework": False, "rework_note": "", "self_checked_at": end,
            "mutual_checked_at": end + dt.timedelta(minutes=5),
            "mutual_checked_by_id": visit.inspector, "version": 6, "created_at": t.signed,
        })  # fmt: skip
        rows["time_entry"].append({
            "id": ids.take("time_entry"), "task_id": task_id, "technician_id": visit.technician,
            "started_at": start, "finished_at": end,
        })  # fmt: skip
        start = end + dt.timedelta(minutes=1)


def _final_check(
    rows: Rows, rng: random.Random, ids: Ids, visit: Visit, order_id: int,
    work: list[int], ready: dt.datetime, rework: bool,
) -> None:  # fmt: skip
    """The final check: passed at `ready`, after a failed first round if `rework`."""
    category, note = rng.choice(FAILED_CHECKS)
    if rework and work:
        task = next(t for t in reversed(rows["job_task"]) if t["job_id"] == work[0])
        task["rework"], task["rework_note"] = True, note
    for round_ in range(1, 2 + int(rework)):
        passed = round_ > 1 or not rework
        rows["inspection"].append({
            "id": ids.take("inspection"), "work_order_id": order_id,
            "inspector_id": visit.inspector, "round": round_, "passed": passed,
            "ticked": list(ITEMS) if passed else list(ITEMS[1:]),
            "odometer_km": visit.odometer_km + 6, "fuel_eighths": None,
            "reason_category": "" if passed else category,
            "note": "" if passed else note, "rework_job_ids": [] if passed else work[:1],
            "created_at": ready - dt.timedelta(minutes=40 * (2 - round_) if rework else 0),
        })  # fmt: skip


def _follow_up(
    rows: Rows, rng: random.Random, ids: Ids, visit: Visit, order_id: int, ci: CheckedIn,
    delivered: dt.datetime, rework: bool, v: Variety, said: dict[str, tuple[str, str]],
) -> None:  # fmt: skip
    """The delivery call, due three days on; made and closed if `v.called_before` (most by
    their due time; `said`: the answers other than "yes"), else left due."""
    due = delivered + dt.timedelta(days=3)
    task_id = ids.take("follow_up_task")
    status, closed = ("open" if ci.follow_up_accepted else "declined"), None
    when = v.called_before
    if when is not None and ci.follow_up_accepted:
        latest = min(due, when - dt.timedelta(hours=1))
        if rng.random() < v.called_on_time or latest < due:
            first = latest - (latest - delivered) * rng.uniform(0.1, 0.7)
        else:
            first = min(due + dt.timedelta(hours=rng.uniform(2, 40)), when - dt.timedelta(hours=1))
        tries = [first] if rng.random() < 0.8 else [first, first + (when - first) * 0.3]
        for n, at in enumerate(tries, start=1):
            reached = n == len(tries)
            attempt_id = ids.take("follow_up_attempt")
            rows["follow_up_attempt"].append({
                "id": attempt_id, "task_id": task_id, "called_at": at, "called_by_id": visit.clerk,
                "outcome": "reached" if reached else "no_answer", "next_call_at": None,
                "spoke_with": "user" if reached else "", "comment": "",
                "satisfaction": rng.choice((4, 5, 5, 5)) if reached else None,
                "scale": 5 if reached else None, "satisfied": None, "complaint_id": None,
                "created_at": at,
            })  # fmt: skip
        status, closed = "reached", tries[-1]
        for question in QUESTIONS:
            answer, remark = said.get(question, ("yes", ""))
            rows["follow_up_answer"].append({
                "id": ids.take("follow_up_answer"), "attempt_id": attempt_id,
                "question": question, "answer": answer, "remark": remark,
                "record_note": "", "record_verdict": "",
            })  # fmt: skip
    rows["follow_up_task"].append({
        "id": task_id, "work_order_id": order_id, "customer_id": visit.vehicle["customer_id"],
        "vehicle_id": visit.vehicle["id"], "complaint_id": None, "reason": "delivery",
        "due_at": due, "deadline_at": due, "phone": visit.phone,
        "contact_name": visit.customer_name, "call_allowed": ci.follow_up_accepted,
        "preferred_when": ci.follow_up_when, "status": status, "closed_at": closed,
        "assigned_to_id": None, "details": {"rework_count": int(rework)}, "version": 1,
        "created_at": delivered,
    })  # fmt: skip


def _said(
    rng: random.Random, booked: bool, greeted_late: bool, late: bool
) -> dict[str, tuple[str, str]]:
    """What the customer answers other than "yes": the misses they noticed."""
    said: dict[str, tuple[str, str]] = {}
    if not booked:
        said["appointment_ready"] = ("not_asked", "")
    if greeted_late and rng.random() < 0.5:
        said["greeted_promptly"] = ("no", "到店后等了好几分钟才有人接待")
    if late and rng.random() < 0.7:
        said["ready_on_time"] = ("no", "比约定时间晚了")
    return said


def order(
    rows: Rows, ids: Ids, rng: random.Random, catalogue: Catalogue,
    photos: list[tuple[str, int, int]], shop: Shop, visit: Visit,
    variety: Variety = Variety(),
) -> None:  # fmt: skip
    """A work order from arrival to follow-up (or cancelled at the check-in)."""
    v = variety
    marks = {table: len(rows[table]) for table in MODELS}
    t0 = visit.arrived
    order_id = ids.take("work_order")
    vehicle = visit.vehicle
    appointment_id = None
    if rng.random() < v.booked:
        appointment_id = ids.take("appointment")
        rows["appointment"].append({
            "id": appointment_id, "customer_id": vehicle["customer_id"],
            "vehicle_id": vehicle["id"], "advisor_id": visit.advisor,
            "scheduled_at": t0 - dt.timedelta(minutes=rng.randrange(-20, 30)),
            "requested_work": "常规保养", "source": rng.choice(("active", "passive")),
            "status": "checked_in", "arrived_at": t0, "notes": "",
            "created_at": t0 - dt.timedelta(days=rng.randrange(1, 10)),
        })  # fmt: skip
    greeted_late = rng.random() < v.greeted_late
    greeted = rng.randrange(6, 16) if greeted_late else rng.randrange(1, 5)
    ci = _check_in(rows, ids, rng, visit, order_id, photos, greeted)
    cancelled = rng.random() < v.cancelled
    t = _times(rng, visit, ci.done, v)
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
    rework = rng.random() < v.rework
    rows["work_order"].append(base | {
        "status": WorkOrderStatus.DELIVERED, "updated_at": t.delivered + dt.timedelta(minutes=1),
        "signed_at": t.signed, "promised_at": t.promised, "delivered_at": t.delivered,
        "consent_road_test": True, "consent_keep_old_parts": rng.random() < 0.3,
        "consent_follow_up": ci.follow_up_accepted, "rework_count": int(rework),
    })  # fmt: skip
    if t.agreed != t.promised:
        rows["promise_change"].append({
            "id": ids.take("promise_change"), "work_order_id": order_id, "old_at": t.promised,
            "new_at": t.agreed, "reason": rng.choice(PROMISE_REASONS),
            "recorded_by_id": visit.advisor, "created_at": t.signed + (t.promised - t.signed) / 2,
        })  # fmt: skip
    jobs = _jobs(rows, ids, rng, catalogue, visit, order_id, ci, ci.done, t.signed)
    work = [(job_id, record) for job_id, record in jobs if not record["declined"]]
    if rng.random() < v.supplement:
        estimate = sum((record["price"] for _id, record in work), Decimal("0"))
        found = t.signed + (t.ready - t.signed) / 3
        work.append(_supplement(rows, ids, rng, catalogue, visit, order_id, estimate, found))
    _workshop(rows, rng, ids, visit, order_id, work, t, rework)
    _final_check(rows, rng, ids, visit, order_id, [job_id for job_id, _r in work], t.ready, rework)
    for position in ("front", "rear"):
        _photo(rows, ids, rng, photos, ci.id, visit, t.delivered, position, None,
               PhotoStage.DELIVERY)  # fmt: skip
    next_on, next_km = visit.next_service or (
        (t.delivered + dt.timedelta(days=180)).date(),
        visit.odometer_km + 5000,
    )
    delivery_row = {
        "id": ids.take("delivery"), "work_order_id": order_id, "advisor_id": visit.advisor,
        "advice": "下次保养请提前预约", "next_service_on": next_on, "next_service_km": next_km,
        "old_parts_shown": True, "signature_id": None, "delivered_at": t.delivered,
        "created_at": t.delivered,
    }  # fmt: skip
    _sign(rows, ids, rng, shop, visit, marks, delivery_row)
    rows["delivery"].append(delivery_row)
    late = t.ready > t.agreed
    said = _said(rng, appointment_id is not None, greeted_late, late)
    _follow_up(rows, rng, ids, visit, order_id, ci, t.delivered, rework, v, said)


async def analyze(session: AsyncSession) -> None:
    """PostgreSQL's planner statistics, as autovacuum would gather them in time after so
    many rows (without them it guesses, and scans: 20-30 ms for a look-up by an index).
    SQLite is left as the app leaves it (no ANALYZE)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("ANALYZE"))


async def fix_sequences(session: AsyncSession, ids: Ids) -> None:
    """Rows came with their ids: PostgreSQL's sequences move past them (SQLite needs none)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table, next_id in ids.next.items():
        if next_id > 1:
            sequence = func.pg_get_serial_sequence(table, "id")
            await session.execute(select(func.setval(sequence, next_id - 1)))
