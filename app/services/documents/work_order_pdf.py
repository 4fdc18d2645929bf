"""The customer's copy of the work order (维修委托书) as a PDF.

Rendered from the signed record itself (the `content` that was hashed), never
from live rows: the PDF shows exactly what the customer signed, in the
language they signed in, with the hash that proves it.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_percent
from jinja2 import Environment
from markupsafe import Markup

from app.i18n import Formatter, _, get_locale, locale_as
from app.models import Signature
from app.services.check_in.view import GUIDED_POSITIONS, labels
from app.services.documents import pdf
from app.services.storage.files import FileStore
from app.services.verify import customer as customer_verify
from app.services.verify import qr
from app.settings import Settings

TEMPLATE = "pdf/work_order.html"
DIAGRAM = "check_in/_diagram.html"


def verify_url(settings: Settings, signature_id: int) -> str:
    """Where the customer checks their copy, without a staff sign-in."""
    return customer_verify.url(settings, signature_id)


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _walkaround_order(photo: dict[str, Any]) -> tuple[int, int]:
    """The positions in the order the advisor walks them, then the marks' photos by number."""
    mark = photo.get("damage_mark")
    if mark is not None:
        return (len(GUIDED_POSITIONS) + 1, int(mark))
    position = photo.get("position") or ""
    walked = GUIDED_POSITIONS.index(position) if position in GUIDED_POSITIONS else None
    return (len(GUIDED_POSITIONS) if walked is None else walked, 0)


def _photos(check_in: dict[str, Any], store: FileStore) -> list[dict[str, Any]]:
    names = labels()["positions"]
    shown = []
    for photo in sorted(check_in.get("photos", []), key=_walkaround_order):
        uri = pdf.thumbnail_uri(store, str(photo.get("sha256", "")))
        if uri is None:
            continue
        mark = photo.get("damage_mark")
        if mark is None:
            caption = names.get(photo.get("position") or "", "")
        else:  # numbered as on the diagram
            caption = _("Damage %(n)s", n=int(mark) + 1)
        shown.append({"uri": uri, "caption": caption})
    return shown


def _diagram(env: Environment, check_in: dict[str, Any]) -> Markup:
    """The diagram the customer saw on the tablet, with the marks where they were put.

    WeasyPrint draws inline SVG without the page's CSS, so the font is named on the
    drawing itself; otherwise its labels fall back to whatever font is installed.
    """
    svg = env.get_template(DIAGRAM).render(
        check_in={"damage_marks": check_in.get("damage_marks", [])}
    )
    return Markup(svg.replace("<svg ", f'<svg font-family="{pdf.FONT}" ', 1))  # noqa: S704 - our own template's output


def context(
    signature: Signature, content: dict[str, Any], store: FileStore, settings: Settings
) -> dict[str, Any]:
    """What the template needs; call inside `locale_as(signature.locale)`."""
    currency = content.get("order", {}).get("currency") or settings.currency
    fmt = Formatter(settings.timezone, currency)
    locale = get_locale()
    check_in = content.get("check_in") or {}

    def money(value: str | None) -> str:
        return fmt.money(Decimal(value or "0"))

    def when(value: str | datetime | None) -> str:
        moment = _moment(value) if isinstance(value, str) or value is None else value
        return fmt.datetime(moment, "medium")

    def line_name(line: dict[str, Any]) -> str:
        preferred = line.get("name_zh") if locale == "zh_CN" else line.get("name_en")
        return str(preferred or line.get("name_en") or line.get("name_zh") or "")

    totals = content.get("totals", {})
    return {
        "content": content,
        "signature": signature,
        "check_in": check_in,
        "photos": _photos(check_in, store),
        "diagram": _diagram(pdf.environment(settings), check_in),
        "labels": labels(),
        "image_uri": "data:image/png;base64," + base64.b64encode(signature.image_png).decode(),
        "verify_url": verify_url(settings, signature.id),
        "verify_qr": qr.png_data_uri(verify_url(settings, signature.id)),
        "fmt": fmt,
        "money": money,
        "when": when,
        "day": lambda value: fmt.date(date.fromisoformat(value)),
        "quantity": lambda value: fmt.number(Decimal(value or "0")),
        "line_name": line_name,
        "tax_rate": format_percent(Decimal(totals.get("tax_rate") or "0"), locale=locale),
        "has": lambda value: value is not None and Decimal(value or "0") != 0,
        "timezone": fmt.zone_name(),
    }


def html(
    signature: Signature, content: dict[str, Any], store: FileStore, settings: Settings
) -> str:
    with locale_as(signature.locale):
        template = pdf.environment(settings).get_template(TEMPLATE)
        return template.render(**context(signature, content, store, settings))


def render(
    signature: Signature, content: dict[str, Any], store: FileStore, settings: Settings
) -> bytes:
    """The PDF bytes. Blocking and CPU-bound: from async code use `render_async`."""
    return pdf.from_html(html(signature, content, store, settings))


async def render_async(
    signature: Signature, content: dict[str, Any], store: FileStore, settings: Settings
) -> bytes:
    """`render` in a worker thread, so the event loop keeps answering the tablets."""
    return await asyncio.to_thread(render, signature, content, store, settings)
