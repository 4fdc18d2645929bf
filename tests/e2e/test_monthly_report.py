"""The service manager's evening summary and monthly report in a real Chromium, on the live
server's demo data (today and this month): read on a tablet in both orientations and both
languages, the PDF and the XLSX downloaded and opened."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.flows import csrf_token

SUMMARY = "/board/summary"
MONTHLY = "/reports/monthly"


def _fits_the_width(page: Page) -> None:
    """The page never scrolls sideways (wide tables scroll inside their own box)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def _small_targets(page: Page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('main a.btn, main button, main input')]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
          .map(e => e.outerHTML.slice(0, 80))"""
    )


def _charts_fit(page: Page) -> None:
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


def test_the_manager_reads_the_evening_summary_and_prints_it(new_context, shot):
    page = new_context("manager", "portrait").new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(SUMMARY)
    expect(page.get_by_test_id("summary-title")).to_contain_text("当日总结")
    expect(page.get_by_test_id("summary-figures").locator("tbody tr")).to_have_count(26)
    expect(page.get_by_test_id("summary-missed")).to_contain_text("未按承诺时间完工")
    expect(page.get_by_test_id("summary-tomorrow")).to_contain_text("需预留零件")
    expect(page.get_by_test_id("summary-send")).to_be_visible()
    shot(page, "daily-summary-zh-portrait")
    _fits_the_width(page)
    assert _small_targets(page) == []

    landscape = new_context("manager", "landscape").new_page()
    landscape.goto(SUMMARY)
    _fits_the_width(landscape)
    shot(landscape, "daily-summary-zh-landscape")

    page.set_viewport_size({"width": 680, "height": 962})
    page.emulate_media(media="print")
    expect(page.locator("header.appbar")).to_be_hidden()
    expect(page.get_by_test_id("summary-send")).to_be_hidden()
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert "总结" in pdf.pages[0].extract_text()  # (pypdf reads 日 as the radical ⽇)
    page.emulate_media(media="screen")
    assert refused == []


def test_the_manager_reads_the_month_and_downloads_the_pdf_and_the_xlsx(
    new_context, shot, tmp_path
):
    page = new_context("manager", "portrait").new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(MONTHLY)
    expect(page.get_by_role("heading", level=1)).to_contain_text("月度管理报告")
    expect(page.get_by_test_id("monthly-totals").locator("tbody tr")).to_have_count(26)
    for chart in ("trend-arrivals", "trend-delivered", "trend-promise", "trend-revenue",
                  "evidence-chart"):  # fmt: skip
        expect(page.get_by_test_id(chart)).to_be_visible()
    expect(page.get_by_test_id("evidence-table").locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("monthly-reminders")).to_contain_text("响应率")
    shot(page, "monthly-report-zh-portrait")
    _fits_the_width(page)
    _charts_fit(page)
    assert _small_targets(page) == []

    landscape = new_context("manager", "landscape").new_page()
    landscape.goto(MONTHLY)
    _fits_the_width(landscape)
    _charts_fit(landscape)
    shot(landscape, "monthly-report-zh-landscape")

    with page.expect_download() as download:
        page.get_by_test_id("report-pdf").click()
    assert re.fullmatch(r"monthly-report-\d{4}-\d{2}\.pdf", download.value.suggested_filename)
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    pdf = PdfReader(io.BytesIO(saved.read_bytes()))
    assert "管理报告" in pdf.pages[0].extract_text()

    with page.expect_download() as download:
        page.get_by_test_id("report-xlsx").click()
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    book = load_workbook(io.BytesIO(saved.read_bytes()))
    assert book.sheetnames == [
        "本月", "每日", "每周", "按服务顾问", "按维修技师", "CSI 记录佐证", "客户关怀提醒",
    ]  # fmt: skip
    assert refused == []


def test_both_read_in_english(new_context, shot):
    page = new_context("manager", "portrait").new_page()
    page.goto(MONTHLY)
    try:
        page.locator("header.appbar").get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Monthly management report")
        expect(page.get_by_test_id("monthly-totals")).to_contain_text("Vehicles in")
        shot(page, "monthly-report-en-portrait")
        _fits_the_width(page)
        page.goto(MONTHLY + "?month=2026-13")
        expect(page.get_by_test_id("error-month")).to_be_visible()
        expect(page.locator("#report-month")).to_have_attribute("aria-invalid", "true")
        shot(page, "monthly-report-en-refused")
        page.goto(SUMMARY)
        expect(page.get_by_test_id("summary-title")).to_contain_text("Daily summary")
        expect(page.get_by_test_id("summary-tomorrow")).to_contain_text("Parts to reserve")
        shot(page, "daily-summary-en-portrait")
        _fits_the_width(page)
    finally:
        page.request.post(
            "/language",
            form={"locale": "zh_CN", "next": "/lane"},
            headers={"x-csrftoken": csrf_token(page)},
        )
