"""/reports/monthly: who may read it, the page, a refused month, the PDF and XLSX files."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.models import Role
from tests.conftest import html, sign_in
from tests.test_monthly_report import november

pytestmark = pytest.mark.http_layer
URL = "/reports/monthly"


async def test_the_manager_reads_the_month(client, db, users) -> None:
    await november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params={"month": "2026-11"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.select_one("[data-testid=report-title]").get_text(strip=True) == (
        "月度管理报告 2026-11"
    )
    arrivals = page.select_one("[data-testid=monthly-totals] tr[data-code=arrivals]")
    assert [td.get_text(" ", strip=True) for td in arrivals.select("td.num")][:3] == [
        "3", "1", "+2",
    ]  # fmt: skip
    kept = page.select_one("[data-testid=monthly-totals] tr[data-code=promise_kept]")
    assert "missed" in kept["class"]
    assert kept.select("td.num")[2].get_text(strip=True) == "−33.3个百分点"
    week = page.select("[data-testid=week-table] tbody tr")[1]
    assert week.select_one("td[data-code=arrivals]").get_text() == "2"
    assert week.select_one("td[data-code=promise_kept]").get_text() == "50.0%"
    assert len(page.select("[data-testid=day-table] tbody tr")) == 30
    assert page.select_one("[data-testid=reminders-rate] strong").get_text() == "50.0%"
    for chart in ("trend-arrivals", "trend-delivered", "trend-promise", "trend-revenue",
                  "evidence-chart"):  # fmt: skip
        assert page.select_one(f"svg[data-testid={chart}] title").get_text(), chart
    links = {a["data-testid"]: a["href"] for a in page.select("a[data-testid]")}
    assert links["report-pdf"] == f"{URL}?month=2026-11&format=pdf"
    assert links["report-xlsx"] == f"{URL}?month=2026-11&format=xlsx"
    assert links["month-before"] == f"{URL}?month=2026-10"
    assert links["month-after"] == f"{URL}?month=2026-12"


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.CUSTOMER_RELATIONS, Role.TECHNICIAN])
async def test_other_roles_are_refused(client, users, role) -> None:
    await sign_in(client, role)
    assert (await client.get(URL)).status_code == 403
    assert (await client.get(URL, params={"format": "pdf"})).status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [({"month": "2026-13"}, "month"), ({"month": "nov"}, "month"), ({"format": "doc"}, "format")],
)
async def test_a_bad_month_or_format_comes_back_marked(client, db, users, query, field) -> None:
    await november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params=query)
    assert response.status_code == 422
    page = html(response)
    if field == "month":
        assert page.select_one("#report-month")["aria-invalid"] == "true"
        assert page.select_one("#report-month")["value"] == query["month"]
    assert page.select_one("[data-testid=monthly-totals]") is None


async def test_the_files_download_as_pdf_and_xlsx(client, db, users) -> None:
    await november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    pdf = await client.get(URL, params={"month": "2026-11", "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="monthly-report-2026-11.pdf"' in pdf.headers["content-disposition"]
    xlsx = await client.get(URL, params={"month": "2026-11", "format": "xlsx"})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[0] == "本月"
    evidence = list(book["CSI 记录佐证"].iter_rows(min_row=4, values_only=True))
    assert ("按承诺时间完工", 2, 3, 66.7, 100) in evidence
    assert len(book.sheetnames) == 7
