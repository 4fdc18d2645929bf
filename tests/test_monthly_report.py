"""The monthly management report of a small November 2026 against its October, built from
the models on both databases: the month and its change, each day and week, per advisor
and technician, the CSI evidence, the reminders' response rate, and the files."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from app.i18n import Formatter, locale_as
from app.models import Dealership, ReminderAction, ReminderContact, Role
from app.services.reports import exports, monthly, monthly_pdf, monthly_view
from app.services.reports import period as report_period
from app.settings import Settings
from tests.monthly_helpers import BEIJING, Visit, a_visit, at

NOVEMBER = report_period.month_period(2026, 11, BEIJING)
NOW = at(12, 2, 9)  # read on 2 December: every day of November counted
FMT = Formatter("Asia/Shanghai", "CNY")


async def november(db, users) -> Dealership:  # type: ignore[no-untyped-def]
    """Three cars in November (two on Monday the 2nd, one on Tuesday the 10th), one in
    October; promises kept but for the second car, delivered a day late."""
    shop = Dealership(code="D1", name="测试店", tax_rate=Decimal("0"))
    db.add(shop)
    visits = [
        Visit(1, at(11, 2, 17), arrived_at=at(11, 2, 9), promised_at=at(11, 2, 18),
              passed_at=at(11, 2, 16), signed_at=at(11, 2, 9, 20), first_clock=at(11, 2, 10)),
        Visit(2, at(11, 3, 18), arrived_at=at(11, 2, 9, 30), promised_at=at(11, 3, 17),
              signed_at=at(11, 2, 9, 40)),
        Visit(3, at(11, 10, 18), arrived_at=at(11, 10, 9), promised_at=at(11, 10, 19),
              signed_at=at(11, 10, 9, 20)),
        Visit(4, at(10, 20, 18), arrived_at=at(10, 20, 9), promised_at=at(10, 20, 19),
              signed_at=at(10, 20, 9, 20)),
    ]  # fmt: skip
    orders = [await a_visit(db, users, visit) for visit in visits]
    # Reminded on 1 November, the third car came in on the 10th; the first never was.
    for order in orders[2], orders[3]:
        db.add(
            ReminderContact(
                vehicle_id=order.vehicle_id, customer_id=order.customer_id, kind="service",
                action=ReminderAction.SENT.value, channel="sms", at=at(11, 1, 10),
            )
        )  # fmt: skip
    await db.commit()
    return shop


async def _report(db, users) -> monthly.MonthlyReport:  # type: ignore[no-untyped-def]
    shop = await november(db, users)
    return await monthly.build(db, shop, NOVEMBER, BEIJING, NOW)


async def test_the_month_is_compared_with_the_month_before(db, users) -> None:
    report = await _report(db, users)
    totals = {c.code: c for c in report.totals}
    arrivals = totals["arrivals"]
    assert (arrivals.figure.value, arrivals.previous.value, arrivals.change) == (3, 1, 2)
    assert arrivals.better is True
    kept = totals["promise_kept"]
    assert (kept.figure.value, kept.figure.part, kept.figure.whole) == (66.7, 2, 3)
    assert kept.previous.value == 100.0
    assert kept.change == Decimal("-33.3")
    assert kept.better is False
    assert (kept.target, kept.met) == (Decimal("90"), False)
    assert totals["arrivals"].target is None  # a daily target is not the month's
    assert monthly_view.change_text("percent", kept.change, FMT) == "−33.3个百分点"


async def test_each_day_and_each_week_has_its_own_figures(db, users) -> None:
    report = await _report(db, users)
    assert len(report.days) == 30
    by_day = dict(report.days)
    picked = {
        day: (f["arrivals"].value, f["delivered"].value, f["promise_kept"].value)
        for day, f in by_day.items()
        if f["arrivals"].value or f["delivered"].value
    }
    assert picked == {
        date(2026, 11, 2): (2, 1, 100.0),
        date(2026, 11, 3): (0, 1, 0.0),
        date(2026, 11, 10): (1, 1, 100.0),
    }
    weeks = [
        (w.first.day, w.last.day, f["arrivals"].value, f["promise_kept"].value)
        for w, f in report.weeks
    ]
    assert weeks == [
        (1, 1, 0, None), (2, 8, 2, 50.0), (9, 15, 1, 100.0), (16, 22, 0, None),
        (23, 29, 0, None), (30, 30, 0, None),
    ]  # fmt: skip


async def test_the_advisor_and_the_technician_have_their_own_rows(db, users) -> None:
    report = await _report(db, users)
    [advisor] = report.advisors
    assert advisor.staff_id == users[Role.ADVISOR]
    assert (advisor.figures["arrivals"].value, advisor.figures["promise_kept"].value) == (3, 66.7)
    [technician] = report.technicians
    # Only the first car's job was clocked by the technician: its order alone is theirs.
    assert technician.figures["finished"].value == 1


async def test_the_evidence_and_the_reminders_are_counted_for_both_months(db, users) -> None:
    report = await _report(db, users)
    ready = next((now, before) for now, before in report.evidence if now.code == "ready_on_time")
    assert (ready[0].proved, ready[0].orders, ready[0].per_cent) == (2, 3, 66.7)
    assert (ready[1].proved, ready[1].orders) == (1, 1)
    assert (report.reminders.reminded, report.reminders.came_in) == (2, 1)
    assert report.reminders.per_cent == 50.0
    assert report.previous_reminders.reminded == 0


async def test_the_spreadsheet_has_a_sheet_per_section_with_numbers(db, users) -> None:
    with locale_as("en"):
        report = await _report(db, users)
        names = monthly_view.context(report, Dealership(name="x"), FMT, Settings())["names"]
        sections = monthly_view.sections(report, FMT, names)
        book = load_workbook(io.BytesIO(exports.to_xlsx(monthly_view.title(report), sections)))
    assert book.sheetnames == [
        "The month", "Per day", "Per week", "Per advisor", "Per technician", "CSI evidence",
        "Service reminders",
    ]  # fmt: skip
    month = book["The month"]
    rows = {row[0]: row[1:] for row in month.iter_rows(min_row=4, values_only=True)}
    assert rows["Vehicles in"][:3] == (3, 1, 2)
    assert rows["Promised time kept (%)"][:5] == (66.7, 100, -33.3, 90, "Off target")
    days = book["Per day"]
    second = next(r for r in days.iter_rows(min_row=4, values_only=True) if r[0] == "2026-11-02")
    assert second[1:3] == (2, 1)
    evidence = list(book["CSI evidence"].iter_rows(min_row=4, values_only=True))
    assert ("Ready at the promised time", 2, 3, 66.7, 100) in evidence


async def test_the_pdf_is_rendered_from_the_report_in_the_readers_language(db, users) -> None:
    report = await _report(db, users)
    settings = Settings()
    with locale_as("zh_CN"):
        context = monthly_view.context(report, Dealership(name="测试店"), FMT, settings)
        document = monthly_pdf.html(settings, context)
    assert "月度管理报告" in document
    assert 'font-family="Noto Sans CJK SC"' in document
    pdf = monthly_pdf.render(document)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000


async def test_the_pdf_speaks_english_to_an_english_reader(db, users) -> None:
    with locale_as("en"):
        report = await _report(db, users)
        context = monthly_view.context(report, Dealership(name="Test"), FMT, Settings())
        document = monthly_pdf.html(Settings(), context)
    assert '<html lang="en">' in document
    assert "Monthly management report 2026-11" in document
    assert "月度管理报告" not in document
