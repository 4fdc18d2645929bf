"""The monthly report as an A4 PDF in the reader's language, with the renderer the work
order's PDF uses (WeasyPrint): everything inline, nothing fetched but data: URIs, in a
worker thread so the event loop keeps answering the tablets."""

from __future__ import annotations

import asyncio
import threading
from functools import lru_cache
from typing import Any

from jinja2 import Environment
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.settings import Settings
from app.templating import TEMPLATES_DIR, build_environment

TEMPLATE = "pdf/monthly.html"
FONT = "Noto Sans CJK SC"
# A month's tables make a long layout: one at a time, beside the work orders' two.
_RENDERING = threading.BoundedSemaphore(1)


@lru_cache(maxsize=4)
def _environment(settings: Settings) -> Environment:
    return build_environment(settings)


def html(settings: Settings, context: dict[str, Any]) -> str:
    """The document the PDF is made from (call inside the reader's locale)."""
    document = _environment(settings).get_template(TEMPLATE).render(**context, font=FONT)
    # WeasyPrint draws inline SVG without the page's CSS: the charts name their font.
    return document.replace('<svg class="chart" ', f'<svg class="chart" font-family="{FONT}" ')


def render(document: str) -> bytes:
    with _RENDERING:
        pdf = HTML(
            string=document,
            base_url=str(TEMPLATES_DIR / "pdf"),
            url_fetcher=URLFetcher(allowed_protocols={"data"}),
        ).write_pdf()
    assert pdf is not None  # noqa: S101 - write_pdf() without a target returns the bytes
    return pdf


async def render_async(document: str) -> bytes:
    return await asyncio.to_thread(render, document)
