"""The monthly follow-up report's figures, counted from a small November built from the
models, on both databases; the period's edges in the dealership's timezone; the exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from app.errors import InvalidInput
from app.services.reports import exports, follow_up_report, follow_up_view
from app.services.reports import period as report_period
from app.services.reports.charts import Bar, bar_chart
from tests.follow_up_report_helpers import BEIJING, TODAY, a_call, an_attempt, at, november

NOVEMBER = report_period.month_period(2026, 11, BEIJING)


async def _report(db, users):  # type: ignore[no-untyped-def]
    await november(db, users)
    return await follow_up_report.build(db, NOVEMBER, TODAY)


async def test_the_month_counts_calls_due_made_on_time_and_reached(db, users) -> None:
    calls = (await _report(db, users)).calls
    assert (calls.due, calls.declined, calls.made) == (4, 1, 4)
    assert (calls.on_time, calls.on_time_percent) == (3, 75.0)
    assert (calls.reached, calls.reached_percent) == (3, 75.0)
    assert (calls.unreachable, calls.still_open) == (1, 0)


async def test_satisfaction_is_the_mean_of_the_reached_calls_on_the_dealerships_scale(
    db, users
) -> None:
    satisfaction = (await _report(db, users)).satisfaction
    assert (satisfaction.scale, satisfaction.answers, satisfaction.mean) == (5, 3, 4.0)
    assert satisfaction.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}


async def test_each_question_is_the_share_of_yes_among_yes_and_no(db, users) -> None:
    report = await _report(db, users)
    by_code = {q.code: q for q in report.questions}
    assert [q.code for q in report.questions][:3] == [
        "greeted_promptly", "walkaround", "estimate_before_work",
    ]  # fmt: skip
    assert (by_code["walkaround"].yes, by_code["walkaround"].no) == (2, 1)
    assert by_code["walkaround"].yes_percent == 66.7
    assert by_code["car_clean"].yes_percent == 50.0
    assert by_code["estimate_before_work"].not_asked == 1
    assert by_code["estimate_before_work"].yes_percent is None  # only "not asked"
    assert by_code["greeted_promptly"].yes_percent is None
    assert by_code["walkaround"].label == "环车检查与防护套"
    assert [(i.label, i.count) for i in report.no_answers] == [
        ("环车检查与防护套", 1), ("按时完工", 1), ("车辆清洁", 1),
    ]  # fmt: skip


async def test_answers_the_record_does_not_bear_out_are_listed_with_order_and_question(
    db, users
) -> None:
    listed = (await _report(db, users)).contradictions
    assert [(c.order_number, c.question, c.answer, c.verdict) for c in listed] == [
        ("WO-2611-001", "ready_on_time", "no", "contradicts"),
        ("WO-2611-001", "car_clean", "yes", "unsupported"),
    ]
    assert listed[0].record_note == "承诺 17:00，16:40 交车"
    assert listed[0].verdict_label == "记录与此“否”相矛盾"


async def test_complaints_are_counted_by_severity_cause_and_responsibility(db, users) -> None:
    complaints = (await _report(db, users)).complaints
    assert complaints.received == 3
    assert [(code, n) for code, _label, n in complaints.by_severity] == [
        ("general", 1), ("escalated", 1), ("serious", 1),
    ]  # fmt: skip
    causes = {code: n for code, _label, n in complaints.by_cause}
    assert (causes["repair_quality"], causes["price"], causes["time"], causes[""]) == (2, 1, 0, 0)
    assert complaints.cause_by_severity["repair_quality"] == {
        "general": 1, "escalated": 0, "serious": 1,
    }  # fmt: skip
    responsibility = {code: n for code, _label, n in complaints.by_responsibility}
    assert responsibility == {"manufacturer": 1, "dealer": 1, "customer": 0, "": 1}


async def test_time_to_close_is_the_median_and_longest_of_the_complaints_closed_in_the_month(
    db, users
) -> None:
    report = await _report(db, users)
    close = report.complaints.close_times
    # C-2 in 6 h, C-1 in 48 h, October's C-4 in 8 days (192 h).
    assert (close.closed, close.median_hours, close.max_hours) == (3, 48.0, 192.0)
    assert [(i.label, i.count) for i in report.cause_issues] == [("维修质量", 2), ("价格", 1)]


async def test_open_actions_are_listed_earliest_first_with_the_overdue_marked(db, users) -> None:
    actions = (await _report(db, users)).actions
    assert [(a.kind, a.due_on, a.overdue, a.owner) for a in actions] == [
        ("corrective", date(2026, 11, 25), True, "Manager"),
        ("preventive", date(2026, 12, 10), False, "Manager"),
    ]
    assert actions[0].complaint_number == "C-1"


async def test_the_last_evening_of_the_month_in_beijing_belongs_to_that_month(db, users) -> None:
    # 23:30 on 30 November in Beijing is 15:30 UTC; 00:30 on 1 December is still 30 November
    # in UTC, and belongs to December.
    last_evening = await a_call(db, "2611", 1, at(11, 30, 23, 30))
    await an_attempt(db, last_evening, at(11, 30, 20), "reached", 5)
    await a_call(db, "2611", 2, at(12, 1, 0, 30))
    await db.commit()
    assert at(12, 1, 0, 30) < datetime(2026, 12, 1, tzinfo=UTC)
    november_ = await follow_up_report.build(db, NOVEMBER, TODAY)
    december = await follow_up_report.build(
        db, report_period.month_period(2026, 12, BEIJING), TODAY
    )
    assert (november_.calls.due, november_.calls.reached, november_.satisfaction.mean) == (1, 1, 5)
    assert december.calls.due == 1


async def test_a_call_moved_to_the_customers_time_counts_against_its_first_deadline(
    db, users
) -> None:
    # Due on 30 November; the customer, called on the 29th, asked for 2 December.
    moved = await a_call(db, "2611", 1, at(11, 30, 10))
    await an_attempt(db, moved, at(11, 29, 10), "not_convenient")
    moved.due_at = at(12, 2, 10)
    await an_attempt(db, moved, at(12, 2, 10), "reached", 4)
    # Due on 28 November, first tried on 1 December: late, whatever due_at says now.
    late = await a_call(db, "2611", 2, at(11, 28, 10))
    await an_attempt(db, late, at(12, 1, 10), "no_answer")
    late.due_at = at(12, 2, 9)
    await db.commit()
    november_ = await follow_up_report.build(db, NOVEMBER, TODAY)
    december = await follow_up_report.build(
        db, report_period.month_period(2026, 12, BEIJING), TODAY
    )
    assert (november_.calls.due, november_.calls.made, november_.calls.on_time) == (2, 2, 1)
    assert december.calls.due == 0


async def test_an_empty_month_counts_nothing_and_says_so(db, users) -> None:
    report = await follow_up_report.build(db, NOVEMBER, TODAY)
    assert report.empty
    assert report.calls.on_time_percent is None
    assert report.satisfaction.mean is None
    assert report.complaints.close_times.median_hours is None


def test_the_period_is_the_month_asked_or_the_current_month_where_the_dealership_is() -> None:
    assert report_period.parse(BEIJING, at(11, 3), month="2026-02").last == date(2026, 2, 28)
    period = report_period.parse(BEIJING, datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert period.month == "2026-12"  # 00:30 on 1 December in Beijing
    assert period.starts_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
    span = report_period.parse(BEIJING, at(11, 3), first="2026-11-03", last="2026-11-17")
    assert (span.first, span.last, span.month, span.slug) == (
        date(2026, 11, 3), date(2026, 11, 17), None, "2026-11-03_2026-11-17",
    )  # fmt: skip
    assert span.ends_at == datetime(2026, 11, 17, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"first": "2026-11-17", "last": "2026-11-03"}, "to"),
        ({"month": "2026-13"}, "month"),
        ({"month": "November"}, "month"),
        ({"first": "2026-11-31", "last": "2026-12-01"}, "from"),
        ({"first": "2026-11-01"}, "to"),
        ({"first": "2025-01-01", "last": "2026-12-31"}, "to"),
    ],
)
def test_a_period_that_cannot_be_is_refused_on_its_field(query, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        report_period.parse(BEIJING, at(11, 3), **query)
    assert refused.value.field == field


async def test_the_csv_holds_the_same_figures_and_neutralises_formulas(db, users) -> None:
    report = await _report(db, users)
    sections = follow_up_view.sections(report, BEIJING)
    body = exports.to_csv(follow_up_view.title(report), sections)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["回访报表（2026年11月）"]
    assert ["按时回访", "3", "75.0"] in rows
    assert ["已接通", "3", "75.0"] in rows
    contradiction = next(r for r in rows if r and r[0] == "WO-2611-001" and "按时完工" in r)
    assert "'=cmd|' /C calc'!A0" in contradiction
    assert any(r[:2] == ["纠正措施", '\'=HYPERLINK("x") 交车前复核清洁'] for r in rows)


async def test_the_xlsx_has_a_sheet_per_section_and_no_formula(db, users) -> None:
    report = await _report(db, users)
    body = exports.to_xlsx(follow_up_view.title(report), follow_up_view.sections(report, BEIJING))
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == [
        "回访电话", "满意度评分", "各问题满意度", "与记录不符的回答", "最常见的问题", "投诉",
        "未完成的纠正与预防措施",
    ]  # fmt: skip
    calls = book["回访电话"]
    assert [c.value for c in calls[5]] == ["按时回访", 3, 75.0]
    contradictions = book["与记录不符的回答"]
    row = [c.value for c in contradictions[4]]
    assert row[0] == "WO-2611-001"
    # Beijing time, as the clerk called (a spreadsheet has no time zones)
    assert row[2] == datetime(2026, 11, 4, 15, 0, tzinfo=BEIJING).replace(tzinfo=None)
    assert row[7] == "'=cmd|' /C calc'!A0"
    assert all(
        cell.data_type != "f" for sheet in book for line in sheet.iter_rows() for cell in line
    )
    questions = {r[0].value: r for r in book["各问题满意度"].iter_rows(min_row=4)}
    assert questions["环车检查与防护套"][4].value == 66.7


def test_a_chart_escapes_its_labels_and_draws_bars_in_proportion() -> None:
    svg = str(bar_chart("标题<", [Bar("a<b", 50, "50%"), Bar("满", 100, "100%")], max_value=100))
    assert 'viewBox="0 0 760 66"' in svg  # two rows of 31, the full width
    assert "a&lt;b" in svg
    assert "标题&lt;" in svg
    assert "<script" not in svg
    assert "style=" not in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert len(widths) == 2
    assert widths[1] == pytest.approx(widths[0] * 2, abs=0.2)
