"""The follow-up report as the page shows it (charts, the period's name) and as the
exports hold it (the same figures and lists, a section each)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from markupsafe import Markup

from app.i18n import _, get_locale
from app.services.reports import charts
from app.services.reports.exports import Cell, Section
from app.services.reports.follow_up_complaints import SEVERITIES
from app.services.reports.follow_up_report import FollowUpReport
from app.services.reports.period import Period

SEVERITY_COLOURS = {"general": "#0b3d91", "escalated": "#b35c00", "serious": "#a4161a"}
FUNNEL_COLOUR = "#1d6b8f"
HALF = 380  # a chart beside another, even on a tablet held upright


def period_label(period: Period) -> str:
    """November 2026 / 2026年11月; a range as its first and last day."""
    locale = get_locale()
    if period.month:
        return format_skeleton("yMMMM", period.first, locale=locale)
    first = format_date(period.first, "medium", locale=locale)
    return f"{first} – {format_date(period.last, 'medium', locale=locale)}"


def title(report: FollowUpReport) -> str:
    return _("Follow-up report, %(period)s", period=period_label(report.period))


def per_cent(value: float | None) -> str:
    """75.0 % (zh-CN and English alike write the sign after a space-less figure)."""
    if value is None:
        return "–"
    return format_decimal(value, "0.0", locale=get_locale()) + "%"


def score(value: float | None) -> str:
    """A mean score: 4.0, 4.33."""
    return "–" if value is None else format_decimal(value, "0.0#", locale=get_locale())


def hours(value: float | None) -> str:
    """A duration as a reader takes it in: hours up to two days, days after that."""
    if value is None:
        return "–"
    if value < 48:
        return _("%(n)s h", n=format_decimal(value, "0.0", locale=get_locale()))
    return _("%(n)s days", n=format_decimal(value / 24, "0.0", locale=get_locale()))


def charts_for(report: FollowUpReport) -> dict[str, Markup]:
    calls = report.calls
    funnel = charts.bar_chart(
        _("Follow-up calls: due, made on time, reached"),
        [
            charts.Bar(_("Calls due"), calls.due, str(calls.due)),
            charts.Bar(
                _("Made on time"),
                calls.on_time,
                f"{calls.on_time} · {per_cent(calls.on_time_percent)}",
            ),
            charts.Bar(
                _("Reached"), calls.reached, f"{calls.reached} · {per_cent(calls.reached_percent)}"
            ),
        ],
        colour=FUNNEL_COLOUR,
        centred=True,
        width=HALF,
        testid="chart-funnel",
    )
    questions = charts.bar_chart(
        _("Satisfaction per question: share of yes among yes and no"),
        [
            charts.Bar(q.label, q.yes_percent or 0, per_cent(q.yes_percent))
            for q in report.questions
        ],
        max_value=100,
        testid="chart-questions",
    )
    sat = report.satisfaction
    scores = charts.bar_chart(
        _("Overall satisfaction: calls per score"),
        [charts.Bar(str(score), n, str(n)) for score, n in reversed(sat.distribution.items())],
        width=HALF,
        testid="chart-scores",
    )
    complaints = report.complaints
    severity_names = {code: label for code, label, _n in complaints.by_severity}
    rows = [(code, label) for code, label, n in complaints.by_cause if n]
    by_cause = charts.stacked_bar_chart(
        _("Complaints by cause and severity"),
        [label for _code, label in rows],
        [charts.Series(severity_names[s], SEVERITY_COLOURS[s]) for s in SEVERITIES],
        [[complaints.cause_by_severity[code][s] for s in SEVERITIES] for code, _label in rows],
        testid="chart-complaints",
    )
    return {"funnel": funnel, "questions": questions, "scores": scores, "complaints": by_cause}


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def sections(report: FollowUpReport, tz: ZoneInfo) -> list[Section]:
    """The exports' sections: the same figures and lists as the page."""
    calls, sat = report.calls, report.satisfaction
    figure, count, share = _("Figure"), _("Count"), _("Per cent")
    summary = Section(_("Calls"), [figure, count, share], [
        [_("Calls due"), calls.due, 100.0 if calls.due else None],
        [_("Made on time"), calls.on_time, calls.on_time_percent],
        [_("Calls made"), calls.made, calls.made_percent],
        [_("Reached"), calls.reached, calls.reached_percent],
        [_("Unreachable"), calls.unreachable, None],
        [_("Still to call"), calls.still_open, None],
        [_("Declined calls at greeting"), calls.declined, None],
        [_("Overall satisfaction (mean, scale of %(n)s)", n=sat.scale), sat.mean, None],
        [_("Scores given"), sat.answers, None],
    ])  # fmt: skip
    scores = Section(_("Satisfaction scores"), [_("Score"), _("Calls")],
                     [[score, n] for score, n in sat.distribution.items()])  # fmt: skip
    questions = Section(
        _("Satisfaction per question"),
        [_("Question"), _("Yes"), _("No"), _("Not asked"), _("Yes among yes and no (%)")],
        [[q.label, q.yes, q.no, q.not_asked, q.yes_percent] for q in report.questions],
    )
    contradictions = Section(
        _("Answers the record does not bear out"),
        [_("Work order"), _("Customer"), _("Called at"), _("Question"), _("Answer"),
         _("What the record says"), _("Verdict"), _("Remark")],
        [[c.order_number, c.contact_name, _local(c.called_at, tz), c.label,
          c.answer_label, c.record_note, c.verdict_label, c.remark] for c in report.contradictions],
    )  # fmt: skip
    issues = Section(
        _("Most frequent issues"),
        [_("Kind"), _("Issue"), count],
        [[_("Answered no"), i.label, i.count] for i in report.no_answers]
        + [[_("Complaint cause"), i.label, i.count] for i in report.cause_issues],
    )
    complaints = report.complaints
    close = complaints.close_times
    complaint_rows: list[list[Cell]] = [
        [_("Received"), _("All complaints"), complaints.received],
        *([_("Severity"), label, n] for _c, label, n in complaints.by_severity),
        *([_("Cause"), label, n] for _c, label, n in complaints.by_cause),
        *([_("Responsibility"), label, n] for _c, label, n in complaints.by_responsibility),
        [_("Time to close"), _("Closed in the period"), close.closed],
        [_("Time to close"), _("Median (hours)"), close.median_hours],
        [_("Time to close"), _("Longest (hours)"), close.max_hours],
    ]
    complaint_section = Section(_("Complaints"), [_("Counted by"), _("Value"), count],
                                complaint_rows)  # fmt: skip
    actions = Section(
        _("Open corrective and preventive actions"),
        [_("Kind"), _("Action"), _("Owner"), _("Due on"), _("Overdue"), _("Complaint")],
        [[a.kind_label, a.description, a.owner, a.due_on, _("Yes") if a.overdue else _("No"),
          a.complaint_number] for a in report.actions],
    )  # fmt: skip
    return [summary, scores, questions, contradictions, issues, complaint_section, actions]
