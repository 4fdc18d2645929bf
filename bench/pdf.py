"""Server time per customer copy: the work-order PDF against a bare WeasyPrint floor.

The floor is the least any PDF of ours costs: WeasyPrint laying out one short page in
the same CJK font (so the font is loaded, subset and embedded) and writing it. The work
order adds the layout of a real record on top: tables, the car diagram, photo thumbnails,
the signature image; the ratio shows what that costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import statistics
import tempfile
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydyf
import weasyprint
from PIL import Image, ImageDraw, ImageFilter
from pypdf import PdfReader

from app.models import Signature
from app.services.documents import work_order_pdf
from app.services.photos.store import thumb_key
from app.services.signing.content import WORK_ORDER_SCHEMA, canonical_json, sha256_hex
from app.services.storage.local import LocalStore
from app.settings import Settings
from bench.photos import timed

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

FLOOR_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 18mm 14mm; }
body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 9pt; }
</style></head><body><h1>维修委托书</h1>
<p>客户王先生说：冷车启动时发动机有异响，持续约一分钟。已与客户确认，同意路试。</p>
</body></html>"""

# (title, source, warranty, declined, lines of (kind, code, name_zh, name_en, qty, price))
JOBS: list[tuple[str, str, bool, bool, list[tuple[str, str, str, str, str, str]]]] = [
    (
        "冷车启动异响检查",
        "concern",
        False,
        False,
        [
            ("labour", "L-DIAG", "故障诊断", "Diagnosis", "1.00", "280.00"),
            ("labour", "L-BELT", "更换发动机皮带", "Replace drive belt", "0.80", "280.00"),
            ("part", "P-BELT", "多楔带", "Poly-V belt", "1", "236.00"),
        ],
    ),
    (
        "常规保养 (10000 km)",
        "menu",
        False,
        False,
        [
            ("labour", "L-OIL", "更换机油及机滤", "Oil and filter change", "0.50", "280.00"),
            ("part", "P-OIL", "全合成机油 5W-30 4L", "Synthetic oil 5W-30 4 L", "1", "398.00"),
            ("part", "P-OILF", "机油滤清器", "Oil filter", "1", "68.00"),
            ("part", "P-AIRF", "空气滤清器", "Air filter", "1", "96.00"),
        ],
    ),
    (
        "前刹车片更换",
        "manual",
        False,
        False,
        [
            ("labour", "L-BRK", "更换前刹车片", "Replace front brake pads", "1.00", "280.00"),
            ("part", "P-BRKF", "前刹车片 (套)", "Front brake pads (set)", "1", "560.00"),
        ],
    ),
    (
        "空调异味处理",
        "concern",
        False,
        False,
        [
            ("labour", "L-AC", "空调系统清洗", "Air-conditioning clean", "0.60", "280.00"),
            ("part", "P-CABF", "空调滤清器", "Cabin filter", "1", "128.00"),
        ],
    ),
    (
        "仪表软件升级 (召回)",
        "manual",
        True,
        False,
        [
            ("labour", "L-SW", "仪表软件升级", "Instrument software update", "0.50", "280.00"),
        ],
    ),
    (
        "四轮定位",
        "manual",
        False,
        True,
        [
            ("labour", "L-ALN", "四轮定位", "Wheel alignment", "1.00", "280.00"),
            ("part", "P-WGT", "平衡块", "Balance weights", "4", "6.00"),
            ("part", "P-VLV", "气门嘴", "Tyre valve", "4", "12.00"),
        ],
    ),
]
POSITIONS = ["front", "front_right", "right", "rear_right", "rear", "rear_left", "left",
             "front_left", "interior", "dashboard"]  # fmt: skip


@dataclass(frozen=True)
class Result:
    document: str
    pages: int
    pdf_bytes: int
    median_ms: float
    floor_ms: float
    ratio: float
    min_ms: float
    max_ms: float


def _thumb(rng: random.Random) -> bytes:
    """A 320x240 JPEG thumbnail that compresses like a photo of a car, not a flat colour."""
    image = Image.effect_noise((320, 240), 30).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(320), rng.randrange(240)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(30, 160), y + rng.randrange(20, 120)), fill=colour)
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _ink_png() -> bytes:
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(40 + i * 12, 120 + (i % 5) * 16) for i in range(40)], fill="black", width=5)
    draw.line([(120, 60), (160, 180), (200, 80), (280, 190)], fill="black", width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _line(kind: str, code: str, zh: str, en: str, qty: str, price: str) -> dict[str, Any]:
    amount = str((Decimal(qty) * Decimal(price)).quantize(Decimal("0.01")))
    return {"kind": kind, "code": code, "name_zh": zh, "name_en": en, "quantity": qty,
            "list_price": price, "unit_price": price, "override_reason": "", "amount": amount,
            "expected_on": None}  # fmt: skip


def sample_record(photo_root: Path, locale: str = "zh_CN") -> tuple[Signature, dict[str, Any]]:
    """A realistic signed work order: 10 photos, 3 damage marks, 6 jobs with 15 lines."""
    rng = random.Random(2026)  # noqa: S311 -- seeded: the same record on every run
    photos: list[dict[str, Any]] = []
    for n, position in enumerate(POSITIONS):
        data = _thumb(rng)
        sha = hashlib.sha256(data + bytes([n])).hexdigest()
        LocalStore(photo_root).put(thumb_key(sha), data)
        photos.append({"position": position, "damage_mark": None, "sha256": sha})
    photos[1]["damage_mark"], photos[1]["position"] = 0, ""
    jobs = []
    labour = parts = warranty = Decimal("0")
    for title, source, is_warranty, declined, lines in JOBS:
        rows = [_line(*line) for line in lines]
        amount = sum((Decimal(r["amount"]) for r in rows), Decimal("0"))
        jobs.append({"title": title, "source": source, "warranty": is_warranty,
                     "declined": declined, "amount": str(amount), "lines": rows})  # fmt: skip
        for r in rows:
            if declined:
                continue
            if is_warranty:
                warranty += Decimal(r["amount"])
            elif r["kind"] == "labour":
                labour += Decimal(r["amount"])
            else:
                parts += Decimal(r["amount"])
    discount = Decimal("100.00")
    subtotal = labour + parts
    tax = ((subtotal - discount) * Decimal("0.13")).quantize(Decimal("0.01"))
    total = subtotal - discount + tax
    content = {
        "schema": WORK_ORDER_SCHEMA,
        "locale": locale,
        "dealership": {"name": "上海浦东一汽大众4S店", "address": "上海市浦东新区张江路 88 号",
                       "phone": "021-5888 6666"},
        "order": {"number": "WO-20261122-0042", "opened_at": "2026-11-22T01:12:00Z",
                  "advisor": "王晓明", "currency": "CNY"},
        "customer": {"name": "陈志强", "phone": "138 1234 5678"},
        "vehicle": {"vin": "LFV2A21K8N3123456", "plate": "沪A·D1234", "make": "大众",
                    "model": "迈腾", "year": 2021, "colour": "珍珠白"},
        "check_in": {
            "arrived_at": "2026-11-22T01:05:00Z", "odometer_km": 48216, "fuel_eighths": 3,
            "warning_lights": ["engine"],
            "checklist": {"exterior_accessories_ok": True, "glass_ok": True,
                          "onboard_tools_present": True, "spare_tyre_present": True,
                          "warning_triangle_present": False, "valuables_advised": True},
            "covers": ["floor_mat", "gear_lever", "seat", "steering_wheel"],
            "covers_skip_reason": "",
            "belongings": [{"kind": "umbrella", "count": 1}, {"kind": "charger", "count": 2}],
            "damage_marks": [
                {"x": 0.3, "y": 0.2, "kind": "scratch", "severity": 1,
                 "note": "左前翼子板划痕约5厘米"},
                {"x": 0.78, "y": 0.55, "kind": "dent", "severity": 2, "note": "右后门凹陷"},
                {"x": 0.5, "y": 0.93, "kind": "chip", "severity": 1, "note": ""},
            ],
            "photos": photos,
            "concerns": [],
            "read_back": [
                "1. 陈志强说：“冷车启动时发动机有异响”。 发生什么：异响；何时：冷启动；"
                "持续多久：约一分钟。",
                "2. 陈志强说：“空调有异味”。 发生什么：异味；何时：刚开空调时。",
                "客户同意路试。",
            ],
            "road_test_consent": True,
        },
        "jobs": jobs,
        "totals": {"labour": str(labour), "parts": str(parts), "warranty": str(warranty),
                   "subtotal": str(subtotal), "discount": str(discount),
                   "discount_reason": "老客户优惠", "tax_rate": "0.1300", "tax": str(tax),
                   "total": str(total)},
        "promised_at": "2026-11-22T09:30:00Z",
        "consents": {"authorise_up_to": str(total), "road_test": True, "keep_old_parts": True,
                     "follow_up": False},
    }  # fmt: skip
    body = canonical_json(content).decode("utf-8")
    signature = Signature(
        id=42, work_order_id=42, kind="work_order", decision="signed", signer_name="陈志强",
        signed_at=dt.datetime(2026, 11, 22, 1, 40, tzinfo=dt.UTC), device_id="tablet-3",
        locale=locale, strokes=[], image_png=_ink_png(), image_sha256="", content=body,
        content_hash=sha256_hex(body.encode("utf-8")), seal_hash="",
    )  # fmt: skip
    return signature, json.loads(body)


def floor() -> bytes:
    pdf = weasyprint.HTML(string=FLOOR_HTML).write_pdf()
    assert pdf is not None
    return pdf


def measure(runs: int, photo_root: Path, settings: Settings) -> list[Result]:
    signature, content = sample_record(photo_root)
    photos = LocalStore(photo_root)
    order = work_order_pdf.render(signature, content, photos, settings)  # warm-up
    floor()
    order_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs):  # interleaved, so drift in CPU speed hits both alike
        timed(lambda: work_order_pdf.render(signature, content, photos, settings), order_times)
        timed(floor, floor_times)
    floor_ms = statistics.median(floor_times)
    order_ms = statistics.median(order_times)
    return [
        Result("work order, 10 photos, 6 jobs / 15 lines", len(PdfReader(io.BytesIO(order)).pages),
               len(order), round(order_ms, 1), round(floor_ms, 1), round(order_ms / floor_ms, 2),
               round(min(order_times), 1), round(max(order_times), 1)),
        Result("floor: one CJK paragraph", len(PdfReader(io.BytesIO(floor())).pages),
               len(floor()), round(floor_ms, 1), round(floor_ms, 1), 1.0,
               round(min(floor_times), 1), round(max(floor_times), 1)),
    ]  # fmt: skip


def table(results: list[Result], runs: int) -> str:
    header = (
        f"{'document':42} {'pages':>5} {'size':>8} {'median':>9} {'floor':>8} {'ratio':>6} "
        f"{'min':>8} {'max':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.document:42} {r.pages:>5} {r.pdf_bytes / 1e3:>6.0f}kB {r.median_ms:>7.1f}ms "
            f"{r.floor_ms:>6.1f}ms {r.ratio:>5.2f}x {r.min_ms:>6.1f}ms {r.max_ms:>6.1f}ms"
        )
    lines += [
        "",
        f"Median of {runs} interleaved runs, in one thread. ratio = work order / floor "
        "(WeasyPrint, one A4 page, the same font, one CJK paragraph).",
    ]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "weasyprint": weasyprint.__version__,
        "pydyf": pydyf.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pdf", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per document")
    parser.add_argument("--keep", type=Path, help="also write the work order PDF here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        settings = Settings(env="test", data_dir=root, secret_key="b" * 48)
        results = measure(args.runs, root / "photos", settings)
        if args.keep:
            signature, content = sample_record(root / "photos")
            photos = LocalStore(root / "photos")
            args.keep.write_bytes(work_order_pdf.render(signature, content, photos, settings))
    report = table(results, args.runs)
    print(report)

    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "when": stamp,
        "runs": args.runs,
        "environment": environment(),
        "results": [asdict(r) for r in results],
    }
    (RESULTS / f"pdf-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"pdf-{stamp}.txt").write_text(report + "\n")
    print(f"\nwritten to {RESULTS.relative_to(HERE.parent)}/pdf-{stamp}.{{json,txt}}")
    return 0
