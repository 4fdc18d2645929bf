"""A trend as inline SVG columns: one column per day or week, its value above it, the
labels below (every few, so they never overlap). Same rules as charts.py: no script, no
style attribute, a fixed viewBox that scales from a tablet to A4."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from app.services.reports.charts import FONT, GRID, INK, PRIMARY, text_width

WIDTH = 760
HEIGHT = 220
_ids = itertools.count(1)


@dataclass(frozen=True)
class Point:
    label: str  # "3" (a day) or "11-02" (a week's first day)
    value: float | None  # None: nothing counted that day (no column, a dash)
    text: str  # written above the column: "66.7%", "3"


def column_chart(
    title: str,
    points: Sequence[Point],
    *,
    max_value: float | None = None,
    colour: str = PRIMARY,
    testid: str = "trend",
) -> Markup:
    """Columns left to right; the values written above when there is room for them."""
    ident = f"trend-{next(_ids)}"
    top_margin, bottom = 22.0, 26.0
    room = HEIGHT - top_margin - bottom
    count = max(len(points), 1)
    slot = WIDTH / count
    column = max(slot * 0.7, 2.0)
    top = max([max_value or 0.0, *(p.value or 0.0 for p in points)]) or 1.0
    small = FONT * 0.75
    widest = max((text_width(p.text, small) for p in points), default=0.0)
    show_values = widest <= slot - 2
    label_every = (
        max(1, int(max(text_width(p.label, small) for p in points) // slot) + 1) if points else 1
    )
    text = Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-size="{:.0f}">{}</text>')
    body = [
        Markup('<line x1="0" y1="{y:.1f}" x2="{w}" y2="{y:.1f}" stroke="{c}"/>').format(
            y=top_margin + room, w=WIDTH, c=GRID
        )
    ]
    for index, point in enumerate(points):
        x = index * slot + (slot - column) / 2
        centre = index * slot + slot / 2
        if point.value is not None:
            height = room * point.value / top
            y = top_margin + room - height
            body.append(
                Markup(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                    "<title>{}: {}</title></rect>"
                ).format(x, y, column, max(height, 0.0), colour, point.label, point.text)
            )
            if show_values:
                body.append(text.format(centre, y - 4, small, point.text))
        if index % label_every == 0:
            body.append(text.format(centre, HEIGHT - 8, small, point.label))
    head = Markup(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}" '
        'data-testid="{testid}" xmlns="http://www.w3.org/2000/svg" font-size="{font}" '
        'fill="{ink}"><title id="{id}">{title}</title>'
    ).format(w=WIDTH, h=HEIGHT, id=ident, testid=testid, font=FONT, ink=INK, title=title)
    return head + Markup("").join(body) + Markup("</svg>")
