"""The monthly report as an A4 PDF in the reader's language, with the renderer the work
order's PDF uses (app/services/documents/pdf.py), in a worker thread so the event loop
keeps answering the tablets."""

from __future__ import annotations

import asyncio
from typing import Any

from app.services.documents import pdf
from app.settings import Settings

TEMPLATE = "pdf/monthly.html"


def html(settings: Settings, context: dict[str, Any]) -> str:
    """The document the PDF is made from (call inside the reader's locale)."""
    document = pdf.environment(settings).get_template(TEMPLATE).render(**context, font=pdf.FONT)
    # WeasyPrint draws inline SVG without the page's CSS: the charts name their font.
    return document.replace('<svg class="chart" ', f'<svg class="chart" font-family="{pdf.FONT}" ')


def render(document: str) -> bytes:
    return pdf.from_html(document)


async def render_async(document: str) -> bytes:
    return await asyncio.to_thread(render, document)
