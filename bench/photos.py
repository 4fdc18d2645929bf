"""Server time per photo: the full pipeline against a floor of bare Pillow work.

The floor is what any server must spend to turn the upload into the same two JPEGs: open,
draft (JPEG), resize to the display size and to the thumbnail, encode both, with the same
filter and quality as the pipeline. The pipeline adds hashing, checks, orientation, colour
management and metadata stripping on top; the ratio shows what those cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pillow_heif
from PIL import Image, ImageDraw, ImageFilter, features

from app.services.photos.pipeline import (
    DISPLAY_LONG_EDGE,
    JPEG_QUALITY,
    REDUCING_GAP,
    RESAMPLE,
    THUMB_LONG_EDGE,
    fit_within,
    process_photo,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_TESTDATA = HERE.parents[1] / "shared" / "testdata" / "photos"
# Real files from the test corpus, when it is there: (file, description).
CORPUS_CASES = [
    ("oppo_r7plus_13mp_gps.jpg", "OPPO R7plus JPEG, 13 MP"),
    ("iphone13pro_depth_gps_p3.heic", "iPhone 13 Pro HEIC, 12 MP, P3"),
]
GOAL_RATIO = 1.3


@dataclass(frozen=True)
class Result:
    photo: str
    pixels: str
    original_bytes: int
    pipeline_ms: float
    floor_ms: float
    ratio: float
    display_bytes: int
    thumb_bytes: int


def floor(data: bytes) -> tuple[bytes, bytes]:
    """The same two JPEGs with nothing but decode, resize and encode."""
    with Image.open(io.BytesIO(data)) as image:
        size = fit_within(image.size, DISPLAY_LONG_EDGE)
        image.draft(None, size)
        display = image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)
    thumb = display.resize(
        fit_within(display.size, THUMB_LONG_EDGE), RESAMPLE, reducing_gap=REDUCING_GAP
    )
    return _jpeg(display), _jpeg(thumb)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return buffer.getvalue()


def synthetic_photo(size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A 12 MP phone-like JPEG: smooth shapes, sensor grain, held upright, with GPS."""
    rng = random.Random(2026)  # noqa: S311 -- seeded: the same picture on every run
    width, height = size
    gradients = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ]
    scene = Image.merge("RGB", gradients)
    draw = ImageDraw.Draw(scene)
    for _ in range(400):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(20, width // 4), rng.randrange(20, height // 4)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(2))
    grain = Image.effect_noise(size, 40).convert("RGB")
    photo = Image.blend(scene, grain, 0.1)

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Bench", "Phone 12MP"  # Make, Model
    exif[0x0112] = 6  # held upright: the pipeline must turn it
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 14.0, 2.5), 3: "E", 4: (121.0, 28.0, 10.0)})
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def timed(run: Callable[[], object], times: list[float]) -> None:
    gc.collect()
    started = time.perf_counter()
    run()
    times.append((time.perf_counter() - started) * 1000)


def measure(label: str, data: bytes, runs: int) -> Result:
    processed = process_photo(data)  # warm-up, and the sizes to report
    floor(data)
    pipeline_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs):  # interleaved, so drift in CPU speed hits both alike
        timed(lambda: process_photo(data), pipeline_times)
        timed(lambda: floor(data), floor_times)
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    pipeline_ms = statistics.median(pipeline_times)
    floor_ms = statistics.median(floor_times)
    return Result(
        photo=label,
        pixels=f"{width}x{height}",
        original_bytes=len(data),
        pipeline_ms=round(pipeline_ms, 1),
        floor_ms=round(floor_ms, 1),
        ratio=round(pipeline_ms / floor_ms, 2),
        display_bytes=len(processed.display_jpeg),
        thumb_bytes=len(processed.thumb_jpeg),
    )


def table(results: list[Result], runs: int) -> str:
    header = (
        f"{'photo':34} {'pixels':>10} {'pipeline':>9} {'floor':>8} {'ratio':>6} "
        f"{'original':>9} {'upload':>8} {'share':>6} {'thumb':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.photo:34} {r.pixels:>10} {r.pipeline_ms:>7.1f}ms {r.floor_ms:>6.1f}ms "
            f"{r.ratio:>5.2f}x {r.original_bytes / 1e6:>7.2f}MB {r.display_bytes / 1e3:>6.0f}kB "
            f"{r.display_bytes / r.original_bytes:>6.0%} {r.thumb_bytes / 1e3:>5.1f}kB"
        )
    lines += [
        "",
        f"Median of {runs} interleaved runs. ratio = pipeline / floor (goal: within "
        f"{GOAL_RATIO}x). upload = the display JPEG ({DISPLAY_LONG_EDGE} px, q{JPEG_QUALITY}) "
        "a tablet would send if it resized before uploading; share = upload / original.",
    ]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "pillow": Image.__version__,
        "pillow_heif": pillow_heif.__version__,
        "libjpeg_turbo": str(features.version_feature("libjpeg_turbo")),
        "littlecms": str(features.version("littlecms2")),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per photo")
    parser.add_argument(
        "--testdata",
        type=Path,
        default=Path(os.environ.get("WALKAROUND_TESTDATA") or DEFAULT_TESTDATA),
        help="the photo corpus, for the real-camera rows",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        synthetic = Path(scratch) / "synthetic-12mp.jpg"
        synthetic.write_bytes(synthetic_photo())
        cases = [("synthetic JPEG, 12 MP, EXIF 6 + GPS", synthetic.read_bytes())]
    for name, label in CORPUS_CASES:
        if (args.testdata / name).is_file():
            cases.append((label, (args.testdata / name).read_bytes()))
        else:
            print(f"skipped {name}: not in {args.testdata}")

    results = [measure(label, data, args.runs) for label, data in cases]
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
    (RESULTS / f"photos-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"photos-{stamp}.txt").write_text(report + "\n")
    print(f"\nwritten to {RESULTS.relative_to(HERE.parent)}/photos-{stamp}.{{json,txt}}")
    return 0
