"""The monthly follow-up report in a real Chromium: a month of calls and complaints added to the
live server's demo data (November 2024, a month no other screen looks at), read by the manager
on a tablet in both languages, printed to A4, and downloaded as XLSX."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.conftest import ROOT
from tests.e2e.flows import csrf_token

MONTH = "/reports/follow-ups?month=2024-11"
# The page's height limit at 834 x 1194 (two screens).
MAX_HEIGHT = 2388

SEED = """
import asyncio, sys
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from app import wiring
from app.db import create_engine
from app.models import Role, StaffUser
from tests.follow_up_report_helpers import november

async def main(path):
    wiring.install()
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with async_sessionmaker(engine, expire_on_commit=False)() as db:
        manager = await db.scalar(select(StaffUser.id).where(StaffUser.username == "manager"))
        await november(db, {Role.SERVICE_MANAGER: manager}, 2024, live=True)
    await engine.dispose()

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def a_month_of_calls(db_path: Path) -> None:
    # The browser's event loop runs in this process: the app's async models run in another.
    done = subprocess.run(
        [sys.executable, "-c", SEED, str(db_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _charts_fit(page: Page) -> None:
    """Every label and figure of every chart is drawn inside its chart."""
    outside = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('text')].map(t => [t.textContent,
                t.getBoundingClientRect()]).filter(([, r]) => r.left < box.left - 1
                || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
              .map(([text]) => text);
        })"""
    )
    assert outside == []


def _small_targets(page: Page) -> list[str]:
    """The controls of the page a gloved finger could miss (under 48 px high)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
            'main a.btn, main button, main input, main summary')]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
          .map(e => e.outerHTML.slice(0, 80))"""
    )


def _height(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def test_the_manager_reads_the_month_on_a_tablet_prints_it_and_downloads_it(
    a_month_of_calls, new_context, shot, tmp_path
):
    page = new_context("manager", "portrait").new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(MONTH)
    expect(page.get_by_role("heading", level=1)).to_have_text("回访报表（2024年11月）")
    expect(page.get_by_test_id("calls-due").locator("strong")).to_have_text("4")
    expect(page.get_by_test_id("calls-on-time").locator("strong")).to_have_text("75.0%")
    expect(page.get_by_test_id("contradiction")).to_have_count(2)
    expect(page.get_by_test_id("contradiction").first).to_contain_text("记录与此“否”相矛盾")
    for chart in ("chart-funnel", "chart-scores", "chart-questions", "chart-complaints"):
        expect(page.get_by_test_id(chart)).to_be_visible()
    expect(page.get_by_role("img", name="各问题满意度：回答“是”占“是”与“否”的比例")).to_be_visible()
    shot(page, "follow-up-report-zh-portrait")
    assert _small_targets(page) == []
    _charts_fit(page)
    assert _height(page) <= MAX_HEIGHT

    landscape = new_context("manager", "landscape").new_page()
    landscape.goto(MONTH)
    _charts_fit(landscape)
    shot(landscape, "follow-up-report-zh-landscape")

    # The XLSX the manager takes away: the same figures, a sheet per section.
    with page.expect_download() as download:
        page.get_by_test_id("report-xlsx").click()
    assert download.value.suggested_filename == "follow-up-report-2024-11.xlsx"
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    book = load_workbook(io.BytesIO(saved.read_bytes()))
    assert [c.value for c in book["回访电话"][5]] == ["按时回访", 3, 75.0]
    assert "'=cmd|' /C calc'!A0" in [c.value for c in book["与记录不符的回答"][4]]

    assert refused == []  # the charts need no inline style or script

    # On paper (A4 less its margins is about 680 px wide): no app bar or buttons, each
    # section on a page of its own.
    page.set_viewport_size({"width": 680, "height": 962})
    page.emulate_media(media="print")
    expect(page.locator("header.appbar")).to_be_hidden()
    expect(page.get_by_test_id("report-print")).to_be_hidden()
    expect(page.get_by_test_id("question-table-print")).to_be_visible()  # folded on screen only
    shot(page, "follow-up-report-print")
    _charts_fit(page)
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) >= 6
    assert "回访报表" in pdf.pages[0].extract_text()
    page.emulate_media(media="screen")


def test_the_report_reads_in_english_and_an_empty_month_says_so(
    a_month_of_calls, new_context, shot
):
    page = new_context("manager", "portrait").new_page()
    page.goto("/reports/follow-ups?month=2024-01")
    expect(page.get_by_test_id("no-calls-due")).to_have_text("本期没有应回访的电话。")
    expect(page.get_by_test_id("no-complaints")).to_be_visible()
    shot(page, "follow-up-report-empty")
    try:
        page.goto(MONTH)
        page.locator("header.appbar").get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up report, November 2024")
        expect(page.get_by_test_id("chart-questions")).to_contain_text("Walkaround with covers")
        expect(page.get_by_test_id("calls-reached")).to_contain_text("Reached: 3")
        shot(page, "follow-up-report-en-portrait")
        _charts_fit(page)
        assert _height(page) <= MAX_HEIGHT
        page.get_by_test_id("month-before").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up report, October 2024")
        page.get_by_text("Another range of days").click()
        page.locator("#report-from").fill("2024-11-20")
        page.locator("#report-to").fill("2024-11-03")
        page.get_by_role("button", name="Show these days").click()
        expect(page.get_by_test_id("error-to")).to_contain_text("The range ends before it starts")
        expect(page.locator("#report-from")).to_have_value("2024-11-20")
        shot(page, "follow-up-report-en-refused")
    finally:
        page.request.post(
            "/language",
            form={"locale": "zh_CN", "next": "/lane"},
            headers={"x-csrftoken": csrf_token(page)},
        )
