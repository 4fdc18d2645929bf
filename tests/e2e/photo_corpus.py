"""The photo corpus (MANIFEST.md) and what the server makes of a photo, for the tests of
what the tablet uploads: the tablet's copy must come out of the server as the original
would (same size, same picture, same refusal), and never be larger than the original."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

from app.errors import DomainError
from app.services.photos.pipeline import process_photo
from tests.e2e.flows import PHOTOS

# Mean absolute difference per channel (0-255) between 32×32 fingerprints of two display
# JPEGs. A tablet copy measured at most 0.3 from the server's own; a picture turned the
# wrong way, mirrored or blank is far above.
FINGERPRINT_LIMIT = 4.0


def manifest() -> dict[str, tuple[str, tuple[int, int]]]:
    """File name -> (format / mode column, upright size) from MANIFEST's first table."""
    text = (PHOTOS / "MANIFEST.md").read_text()
    table = text.split("## What each file tests", 1)[1].split("###", 1)[0]
    rows: dict[str, tuple[str, tuple[int, int]]] = {}
    for line in table.splitlines():
        match = re.match(r"\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if not match:
            continue
        name, mode, pixels = match.groups()
        # The size after the arrow when it turns, else the first one given.
        sizes = re.findall(r"(\d+)×(\d+)", pixels.split("→", 1)[-1])
        rows[name] = (mode.strip(), (int(sizes[0][0]), int(sizes[0][1])))
    return rows


@dataclass(frozen=True)
class Made:
    """What the server made of some bytes: a display JPEG, or a refusal."""

    status: int
    error: str | None = None
    width: int = 0
    height: int = 0
    fingerprint: Image.Image | None = None


_made: dict[str, Made] = {}


def server_makes(data: bytes) -> Made:
    key = hashlib.sha256(data).hexdigest()
    if key not in _made:
        try:
            photo = process_photo(data)
        except DomainError as exc:
            _made[key] = Made(exc.status_code, exc.message)
        else:
            with Image.open(io.BytesIO(photo.display_jpeg)) as display:
                small = display.convert("RGB").resize((32, 32), Image.Resampling.BOX)
            _made[key] = Made(201, None, photo.width, photo.height, small)
    return _made[key]


def pipeline_judge(data: bytes) -> tuple[int, str] | None:
    """The fake upload endpoint's answer: the real pipeline's refusal, or None to store."""
    made = server_makes(data)
    return (made.status, made.error or "") if made.error else None


def difference(a: Made, b: Made) -> float:
    assert a.fingerprint is not None
    assert b.fingerprint is not None
    return max(ImageStat.Stat(ImageChops.difference(a.fingerprint, b.fingerprint)).mean)


def problems_with(original: bytes, uploaded: bytes, upright: tuple[int, int] | None) -> list[str]:
    """Every way the upload falls short of the original; an empty list when it does not."""
    problems = []
    if len(uploaded) > len(original):
        problems.append(f"upload larger than the original ({len(uploaded)} > {len(original)})")
    want, got = server_makes(original), server_makes(uploaded)
    if want.error or got.error:
        if (want.status, want.error) != (got.status, got.error):
            was, now = want.error or "stored", got.error or "stored"
            problems.append(f"server: original {was}, upload {now}")
        return problems
    if abs(want.width - got.width) > 1 or abs(want.height - got.height) > 1:
        problems.append(f"size {got.width}×{got.height}, original makes {want.width}×{want.height}")
    elif difference(want, got) > FINGERPRINT_LIMIT:
        problems.append(f"another picture than the original makes ({difference(want, got):.1f})")
    if upright is not None:
        w, h = upright
        if abs(got.width / got.height - w / h) > 0.02 * w / h:
            problems.append(f"stored {got.width}×{got.height}, MANIFEST says upright {w}×{h}")
    return problems


def corpus_files() -> list[Path]:
    return sorted(p for p in PHOTOS.iterdir() if p.name != "MANIFEST.md")
