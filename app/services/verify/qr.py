"""QR codes for the customer's copy (segno: pure Python, no image library needed)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def _code(data: str) -> segno.QRCode:
    # Level M survives a crease or a smudge on a paper copy; the URL stays short.
    return segno.make(data, error="m", micro=False)


def svg(data: str, title: str) -> Markup:
    """Inline SVG for a page: sharp at any size, no request of its own (segno escapes the title)."""
    drawing = _code(data).svg_inline(scale=4, border=2, omitsize=True, title=title)
    return Markup(drawing.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own markup


def png_data_uri(data: str) -> str:
    """A PNG for the PDF: 8 pixels a module prints crisply at the copy's size."""
    return str(_code(data).png_data_uri(scale=8, border=2))
