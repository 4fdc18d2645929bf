"""/reports/follow-ups: who may read it, the page, a refused period, the CSV and XLSX files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.models import CorrectiveAction, Role
from tests.conftest import html, sign_in
from tests.follow_up_report_helpers import november

pytestmark = pytest.mark.http_layer
URL = "/reports/follow-ups"


@pytest.mark.parametrize("role", [Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER])
async def test_relations_and_the_manager_read_the_month_with_its_charts(
    client, db, users, role
) -> None:
    await november(db, users)
    await sign_in(client, role)
    response = await client.get(URL, params={"month": "2026-11"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    assert page.select_one("[data-testid=report-title]").get_text(strip=True) == (
        "回访报表（2026年11月）"
    )
    assert page.select_one("[data-testid=calls-due] strong").get_text() == "4"
    assert page.select_one("[data-testid=calls-on-time] strong").get_text() == "75.0%"
    assert len(page.select("[data-testid=contradiction]")) == 2
    assert page.select_one("[data-testid=satisfaction-mean]").get_text(strip=True) == (
        "总体满意度：4.0 分（满分 5，共 3 个评分）"
    )
    for chart in ("chart-funnel", "chart-scores", "chart-questions", "chart-complaints"):
        svg = page.select_one(f"svg[data-testid={chart}]")
        assert svg is not None, chart
        assert svg.find("title").get_text()  # named for a screen reader
    assert "环车检查与防护套" in page.select_one("svg[data-testid=chart-questions]").get_text()
    overdue = page.select("[data-testid=action][data-overdue=true]")
    assert len(overdue) == 1
    links = {a["data-testid"]: a["href"] for a in page.select("a[data-testid]")}
    assert links["report-xlsx"] == f"{URL}?month=2026-11&format=xlsx"
    assert links["month-before"] == f"{URL}?month=2026-10"
    assert links["month-after"] == f"{URL}?month=2026-12"
    nav = [a["href"] for a in page.select("header.appbar nav a")]
    assert URL in nav


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.TECHNICIAN, Role.ADMIN])
async def test_other_roles_are_refused(client, users, role) -> None:
    await sign_in(client, role)
    assert (await client.get(URL)).status_code == 403
    assert (await client.get(URL, params={"format": "csv"})).status_code == 403


async def test_an_empty_month_says_no_calls_are_due(client, users) -> None:
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    page = html(await client.get(URL, params={"month": "2026-11"}))
    assert page.select_one("[data-testid=no-calls-due]") is not None
    assert page.select_one("[data-testid=no-complaints]") is not None
    assert page.select("svg") == []


async def test_a_range_that_ends_before_it_starts_is_refused_with_what_was_typed(
    client, users
) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params={"from": "2026-11-17", "to": "2026-11-03"})
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("#report-from")["value"] == "2026-11-17"
    assert page.select_one("#report-to")["value"] == "2026-11-03"
    assert page.select_one("#report-to")["aria-invalid"] == "true"
    assert "结束日期早于开始日期" in page.select_one("[data-testid=error-to]").get_text()
    assert page.select_one("details.report-range").has_attr("open")
    assert page.select("[data-testid=report-calls]") == []


@pytest.mark.parametrize(
    ("query", "slot", "message"),
    [
        ({"month": "2026-1"}, "error-month", "请按年月填写月份"),
        ({"month": "2026-11", "format": "pdf"}, "form-error", "CSV 或 XLSX"),
    ],
)
async def test_a_malformed_month_or_format_is_refused(client, users, query, slot, message) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params=query)
    assert response.status_code == 422
    page = html(response)
    assert message in page.select_one(f"[data-testid={slot}]").get_text()
    assert page.select_one("#report-month")["value"] == query["month"]


async def test_the_csv_download_is_named_for_its_period(client, db, users) -> None:
    await november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params={"month": "2026-11", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="follow-up-report-2026-11.csv"'
    )
    text = response.content.decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text
    assert ",=" not in text  # no cell starts a formula


async def test_the_xlsx_download_opens_with_a_sheet_per_section(client, db, users) -> None:
    await november(db, users)
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    response = await client.get(
        URL, params={"from": "2026-11-01", "to": "2026-11-15", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        'attachment; filename="follow-up-report-2026-11-01_2026-11-15.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    calls = book["回访电话"]
    # Due 1-15 November: the calls due on the 5th, 10th and 15th (the 12th declined).
    assert [c.value for c in calls[4]] == ["应回访", 3, 100.0]
    actions = book["未完成的纠正与预防措施"]
    assert actions["B4"].value == '\'=HYPERLINK("x") 交车前复核清洁'
    assert actions["B4"].data_type == "s"


async def test_english_readers_get_the_report_in_english(client, db, users) -> None:
    await november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    token = html(await client.get(URL)).select_one("input[name=_csrf_token]")
    await client.post("/language", data={"locale": "en", "_csrf_token": token["value"]})
    page = html(await client.get(URL, params={"month": "2026-11"}))
    assert page.select_one("[data-testid=report-title]").get_text(strip=True) == (
        "Follow-up report, November 2026"
    )
    assert "Walkaround with covers" in page.select_one("svg[data-testid=chart-questions]").text


async def test_a_long_list_shows_five_folds_the_rest_and_prints_them_all(client, db, users) -> None:
    db.add_all(
        CorrectiveAction(kind="preventive", description=f"措施 {n}", due_on=date(2026, 12, n + 1))
        for n in range(7)
    )
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get(URL, params={"month": "2026-11"}))
    section = page.select_one("[data-testid=report-actions]")
    shown = section.find("table", recursive=False)
    assert len(shown.select("[data-testid=action]")) == 5
    folded = section.select_one("details.report-more")
    assert folded.summary.get_text(strip=True) == "另外 2 条"
    assert [r.td.get_text(" ", strip=True) for r in folded.select("[data-testid=action]")] == [
        "预防措施 措施 5", "预防措施 措施 6",
    ]  # fmt: skip
    assert len(section.select(".print-only [data-testid=action-print]")) == 2
