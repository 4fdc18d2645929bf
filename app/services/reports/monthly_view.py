"""The monthly report as the reader sees it: values in their units, changes with their
sign, trend charts, and the sections of the spreadsheet file."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from markupsafe import Markup

from app.i18n import Formatter, _, get_locale
from app.models import Dealership
from app.models.base import utcnow
from app.services.board import labels as board_labels
from app.services.board.scope import Figure
from app.services.reports import exports, follow_up_view
from app.services.reports.charts import Bar, bar_chart
from app.services.reports.monthly import (
    ADVISOR_CODES,
    TECHNICIAN_CODES,
    TREND_CODES,
    MonthlyReport,
)
from app.services.reports.monthly_charts import Point, column_chart
from app.settings import Settings


def value_text(unit: str, value: Decimal | float | int, fmt: Formatter) -> str:
    """3, 66.7%, 4.5 min, 7.5 h, ¥1,200.00."""
    if unit == "money":
        return fmt.money(value)
    if unit == "count":
        return fmt.number(value)
    if unit == "percent":  # as the follow-up report writes it: 75.0%
        return follow_up_view.per_cent(float(value))
    number = format_decimal(value, "0.0", locale=get_locale())
    return f"{number} {board_labels.units()[unit]}"


def shown(figure: Figure | None, fmt: Formatter) -> str:
    if figure is None or figure.value is None:
        return "—"
    return value_text(figure.unit, figure.value, fmt)


def change_text(unit: str, change: Decimal | None, fmt: Formatter) -> str:
    """+3, −5.0 pts, +¥200.00: a share changes by percentage points."""
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    size = abs(change)
    if unit == "percent":
        return sign + _("%(n)s pts", n=format_decimal(size, "0.0", locale=get_locale()))
    return sign + value_text(unit, size, fmt)


def raw(figure: Figure) -> float | int | None:
    """A figure's value for a spreadsheet cell: a number, or empty."""
    if figure.value is None:
        return None
    return figure.value if isinstance(figure.value, int) else float(figure.value)


def title(report: MonthlyReport) -> str:
    return _("Monthly management report %(month)s", month=report.period.month or "")


def charts(report: MonthlyReport, fmt: Formatter, names: dict[str, str]) -> dict[str, Markup]:
    """Trend charts: vehicles in and labour revenue per day, promise kept per week."""

    def point(label: str, figure: Figure) -> Point:
        value = raw(figure)
        return Point(label, None if value is None else float(value), shown(figure, fmt))

    def per_day(code: str) -> list[Point]:
        return [point(str(day.day), f[code]) for day, f in report.days]

    weekly = [
        point(f"{week.first.month}-{week.first.day}", f["promise_kept"]) for week, f in report.weeks
    ]
    return {
        "arrivals": column_chart(names["arrivals"], per_day("arrivals"), testid="trend-arrivals"),
        "delivered": column_chart(
            names["delivered"], per_day("delivered"), testid="trend-delivered", colour="#1a7f37"
        ),
        "promise_kept": column_chart(
            names["promise_kept"], weekly, max_value=100, testid="trend-promise"
        ),
        "labour_revenue": column_chart(
            names["labour_revenue"], per_day("labour_revenue"), testid="trend-revenue",
            colour="#8250df",
        ),
    }  # fmt: skip


def sections(report: MonthlyReport, fmt: Formatter, names: dict[str, str]) -> list[exports.Section]:
    """The report as sheets: numbers as numbers, per cent as 66.7 (the header says %)."""
    units = {"percent": "%", "minutes": _("min"), "hours": _("h"), "money": fmt.currency}

    def head(code: str, figure: Figure) -> str:
        unit = units.get(figure.unit, "")
        return f"{names[code]} ({unit})" if unit else names[code]

    totals = exports.Section(
        _("The month"),
        [_("Figure"), _("This month"), _("Month before"), _("Change"), _("Target"), _("Verdict")],
        [
            [head(c.code, c.figure), raw(c.figure), raw(c.previous),
             None if c.change is None else float(c.change),
             None if c.target is None else float(c.target),
             board_labels.verdicts()[c.met] if c.target is not None else ""]
            for c in report.totals
        ],
    )  # fmt: skip
    sample = report.totals[0].figure if report.totals else None
    by_code = {c.code: c.figure for c in report.totals}
    trend_head = [head(code, by_code[code]) for code in TREND_CODES] if sample else []
    days = exports.Section(
        _("Per day"),
        [_("Day"), *trend_head],
        [[day.isoformat(), *(raw(f[code]) for code in TREND_CODES)] for day, f in report.days],
    )
    weeks = exports.Section(
        _("Per week"),
        [_("Week"), *trend_head],
        [[f"{w.first.isoformat()} – {w.last.isoformat()}", *(raw(f[code]) for code in TREND_CODES)]
         for w, f in report.weeks],
    )  # fmt: skip
    advisors = exports.Section(
        _("Per advisor"),
        [_("Advisor"), *(head(code, by_code[code]) for code in ADVISOR_CODES)],
        [[p.name, *(raw(p.figures[code]) for code in ADVISOR_CODES)] for p in report.advisors],
    )
    technicians = exports.Section(
        _("Per technician"),
        [_("Technician"), *(head(code, by_code[code]) for code in TECHNICIAN_CODES)],
        [[p.name, *(raw(p.figures[code]) for code in TECHNICIAN_CODES)]
         for p in report.technicians],
    )  # fmt: skip
    evidence = exports.Section(
        _("CSI evidence"),
        [_("Question"), _("Proved"), _("Orders delivered"), _("Proved (%)"),
         _("Month before (%)")],
        [[now.label, now.proved, now.orders, now.per_cent, before.per_cent]
         for now, before in report.evidence],
    )  # fmt: skip
    reminders = exports.Section(
        _("Service reminders"),
        [_("Month"), _("Cars reminded"), _("Came in within 90 days"), _("Response rate (%)")],
        [
            [report.period.month or "", report.reminders.reminded, report.reminders.came_in,
             report.reminders.per_cent],
            [report.previous_period.month or "", report.previous_reminders.reminded,
             report.previous_reminders.came_in, report.previous_reminders.per_cent],
        ],
    )  # fmt: skip
    return [totals, days, weeks, advisors, technicians, evidence, reminders]


def links(report: MonthlyReport) -> dict[str, str]:
    base = "/reports/monthly"
    month = report.period.month or ""
    return {
        "pdf": f"{base}?month={month}&format=pdf",
        "xlsx": f"{base}?month={month}&format=xlsx",
        "before": f"{base}?month={report.previous_period.month}",
        "after": f"{base}?month={_next_month(month)}",
    }


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + (number == 12):04d}-{number % 12 + 1:02d}"


def evidence_chart(report: MonthlyReport) -> Markup:
    bars = [
        Bar(now.label, now.per_cent or 0.0, follow_up_view.per_cent(now.per_cent))
        for now, _before in report.evidence
    ]
    # The scale runs a little past 100 % so that a full bar's "100.0%" (bold, wider than
    # charts.py estimates) still ends inside the chart.
    return bar_chart(_("CSI evidence per question"), bars, max_value=112, testid="evidence-chart")


def context(
    report: MonthlyReport, shop: Dealership, fmt: Formatter, settings: Settings
) -> dict[str, Any]:
    """What the page and the PDF show (call inside the reader's locale)."""
    names = board_labels.names(shop.greeting_minutes)
    return {
        "report": report,
        "shop": shop,
        "heading": title(report),
        "names": names,
        "charts": charts(report, fmt, names),
        "evidence_chart": evidence_chart(report),
        "links": links(report),
        "shown": lambda figure: shown(figure, fmt),
        "change": lambda compared: change_text(compared.figure.unit, compared.change, fmt),
        "target": lambda compared: (
            value_text(compared.figure.unit, compared.target, fmt)
            if compared.target is not None
            else "—"
        ),
        "per_cent": follow_up_view.per_cent,
        "verdicts": board_labels.verdicts(),
        "trend_codes": TREND_CODES,
        "advisor_codes": ADVISOR_CODES,
        "technician_codes": TECHNICIAN_CODES,
        "zone": fmt.zone_name(),
        "generated": fmt.datetime(utcnow()),
        "public_url": settings.public_url,
    }
