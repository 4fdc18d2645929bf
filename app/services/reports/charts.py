"""Charts drawn on the server as inline SVG: no chart library, no script, nothing the
Content-Security-Policy refuses (colours are SVG attributes, not style), and they print.

Each function takes labels already in the reader's language and returns the markup; the
geometry is in a fixed viewBox that scales to the page, so text keeps its proportion from
an 834 px tablet to an A4 sheet.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 760  # viewBox units, about the pixels of a full-width chart on an 834 px tablet
FONT = 16
ROW = 31
BAR = 21
GAP = 10
PRIMARY = "#0b3d91"
INK = "#0d1117"
GRID = "#b9c2cf"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written at the bar's end: "75.0 %", "3"


@dataclass(frozen=True)
class Series:
    label: str
    colour: str


def text_width(text: str, size: float = FONT) -> float:
    """About how wide `text` is drawn: a Chinese character is a full em, Latin about half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.58 for ch in text)


def _fit(text: str, room: float, size: float = FONT) -> str:
    """The text shortened with an ellipsis to fit `room` (the full text is in the row's title)."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def _svg(title: str, height: float, body: list[Markup], testid: str, width: float) -> Markup:
    ident = f"chart-{next(_ids)}"
    head = Markup(
        '<svg class="chart" viewBox="0 0 {w} {h:.0f}" width="100%" role="img" '
        'aria-labelledby="{id}" data-testid="{testid}" xmlns="http://www.w3.org/2000/svg" '
        'font-size="{font}" fill="{ink}"><title id="{id}">{title}</title>'
    ).format(w=width, h=height, id=ident, testid=testid, font=FONT, ink=INK, title=title)
    return head + Markup("").join(body) + Markup("</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" font-weight="{}">{}</text>').format(
        x, y, anchor, weight, text
    )


def _rect(x: float, y: float, w: float, h: float, colour: str, tip: str = "") -> Markup:
    tip_markup = Markup("<title>{}</title>").format(tip) if tip else Markup("")
    shape = Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{}" rx="3" fill="{}">')
    return shape.format(x, y, max(w, 0.0), h, colour) + tip_markup + Markup("</rect>")


def _columns(labels: Sequence[str], texts: Sequence[str], width: float) -> tuple[float, float]:
    """The label column's width and the value column's, from what they hold."""
    label_w = min(max((text_width(t) for t in labels), default=0) + 14, width * 0.42)
    value_w = max((text_width(t) for t in texts), default=0) + 12
    return label_w, value_w


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    max_value: float | None = None,
    colour: str = PRIMARY,
    centred: bool = False,
    width: float = WIDTH,
    testid: str = "chart",
) -> Markup:
    """One horizontal bar per row, its label before it and its figure after it.
    `centred` draws each bar about the middle: the funnel of a process (due → reached)."""
    label_w, value_w = _columns([b.label for b in bars], [b.text for b in bars], width)
    room = width - label_w - value_w
    top = max([max_value or 0, *(b.value for b in bars)]) or 1
    body: list[Markup] = []
    if not centred:  # the scale's end, faint, so short bars read as short
        line = Markup(
            '<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h}" stroke="{c}" stroke-dasharray="4 4"/>'
        )
        body.append(line.format(x=label_w + room, h=len(bars) * ROW, c=GRID))
    for index, bar in enumerate(bars):
        y = index * ROW
        length = room * bar.value / top
        x = label_w + (room - length) / 2 if centred else label_w
        body.append(_text(label_w - 10, y + ROW / 2 + 6, _fit(bar.label, label_w - 14), "end"))
        body.append(_rect(x, y + (ROW - BAR) / 2, length, BAR, colour, f"{bar.label}: {bar.text}"))
        end = label_w + room + 8 if centred else x + length + 8
        body.append(_text(end, y + ROW / 2 + 6, bar.text, weight="bold"))
    return _svg(title, len(bars) * ROW + 4, body, testid, width)


def stacked_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[int]],
    *,
    width: float = WIDTH,
    testid: str = "chart",
) -> Markup:
    """One bar per category, in segments per series (`values[category][series]`), a
    legend above; each bar ends with its total."""
    totals = [sum(row) for row in values]
    label_w, value_w = _columns(categories, [str(t) for t in totals], width)
    room = width - label_w - value_w
    top = max(totals, default=0) or 1
    body: list[Markup] = []
    x = 0.0
    for item in series:  # the legend, one line
        body.append(_rect(x, 4, 18, 18, item.colour))
        body.append(_text(x + 24, 19, item.label))
        x += 24 + text_width(item.label) + 22
    legend = 34
    for index, (category, row) in enumerate(zip(categories, values, strict=True)):
        y = legend + index * ROW
        body.append(_text(label_w - 10, y + ROW / 2 + 6, _fit(category, label_w - 14), "end"))
        x = label_w
        for item, count in zip(series, row, strict=True):
            length = room * count / top
            if count:
                tip = f"{category} · {item.label}: {count}"
                body.append(_rect(x, y + (ROW - BAR) / 2, length, BAR, item.colour, tip))
            x += length
        body.append(_text(x + 8, y + ROW / 2 + 6, str(totals[index]), weight="bold"))
    return _svg(title, legend + len(categories) * ROW + 4, body, testid, width)
