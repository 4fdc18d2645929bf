"""The ink of a signature: the pad's strokes and its PNG, refused when empty,
trivial, oversized or not what they claim to be."""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from app.errors import InvalidInput
from app.i18n import _

MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGE_SIDE = 4096
MAX_POINTS = 20_000
# signature_pad's strokes: a list of strokes, each with a list of points (4 levels).
MAX_NESTING = 6
MAX_STROKES_CHARS = MAX_POINTS * 120
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
# Below these (in CSS pixels of the pad) a mark is a dot or a slip, not a signature.
MIN_INK_LENGTH = 120
MIN_INK_EXTENT = 60


@dataclass(frozen=True)
class Ink:
    strokes: list[list[list[float]]]  # strokes of [x, y, t] points
    png: bytes


def _points(strokes: Any) -> list[list[list[float]]]:
    if not isinstance(strokes, list) or len(strokes) > 500:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        )
    out = []
    total = 0
    for stroke in strokes:
        points = stroke.get("points") if isinstance(stroke, dict) else None
        if not isinstance(points, list):
            raise InvalidInput(_("The signature could not be read. Please sign again."))
        clean = []
        for point in points:
            try:
                x, y = float(point["x"]), float(point["y"])
                t = float(point.get("time", 0))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(
                    _("The signature could not be read. Please sign again.")
                ) from None
            if not all(math.isfinite(v) for v in (x, y, t)):
                raise InvalidInput(_("The signature could not be read. Please sign again."))
            clean.append([round(x, 1), round(y, 1), round(t)])
        total += len(clean)
        if clean:
            out.append(clean)
    if total > MAX_POINTS:
        raise InvalidInput(_("The signature is too large. Please sign again."))
    return out


def _nesting(text: str) -> int:
    """How deep the JSON's lists and objects go, brackets inside strings aside."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def check_ink(strokes_json: str | None, image_data_url: str | None) -> Ink:
    """Refuse an empty or trivial signature, and anything that is not one."""
    text = strokes_json or "[]"
    # Measured before parsing: json.loads recurses once per level and a few
    # thousand levels end in RecursionError (a 500), not in a message.
    if len(text) > MAX_STROKES_CHARS or _nesting(text) > MAX_NESTING:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        )
    try:
        strokes = _points(json.loads(text))
    except json.JSONDecodeError:
        raise InvalidInput(
            _("The signature could not be read. Please sign again."), field="signature"
        ) from None
    if not strokes:
        raise InvalidInput(_("Please sign in the box."), field="signature")
    points = [p for s in strokes for p in s]
    length = sum(math.dist(a[:2], b[:2]) for s in strokes for a, b in itertools.pairwise(s))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    extent = max(max(xs) - min(xs), max(ys) - min(ys))
    if length < MIN_INK_LENGTH or extent < MIN_INK_EXTENT:
        raise InvalidInput(
            _("That is too short to be a signature. Please sign your name."), field="signature"
        )
    prefix = "data:image/png;base64,"
    if not image_data_url or not image_data_url.startswith(prefix):
        raise InvalidInput(
            _("The signature image is missing. Please sign again."), field="signature"
        )
    try:
        png = base64.b64decode(image_data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("The signature image is damaged. Please sign again.")) from None
    if len(png) > MAX_IMAGE_BYTES:
        raise InvalidInput(_("The signature image is too large. Please sign again."))
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG" or max(image.size) > MAX_IMAGE_SIDE:
                raise InvalidInput(_("The signature image is damaged. Please sign again."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidInput(_("The signature image is damaged. Please sign again.")) from None
    return Ink(strokes=strokes, png=png)
