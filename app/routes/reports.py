"""Reports: the monthly follow-up report (回访月报) as a page, a print and CSV/XLSX files."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import Role
from app.models.base import utcnow
from app.services import dealership
from app.services.reports import (
    exports,
    follow_up_report,
    follow_up_view,
    monthly,
    monthly_pdf,
    monthly_view,
)
from app.services.reports import period as report_period
from app.settings import Settings
from app.web.auth import roles
from app.web.form import Refusal
from app.web.render import render

READERS = (Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)
FORMATS = ("html", "csv", "xlsx")
QUERY = ("month", "from", "to", "format")


def _links(period: report_period.Period, settings: Settings) -> dict[str, str]:
    """The period's own address (for the exports) and the months either side."""
    here = (
        f"month={period.month}" if period.month
        else f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    )  # fmt: skip
    before = report_period.shift_month(period, -1, settings.tz)
    after = report_period.shift_month(period, 1, settings.tz)
    base = "/reports/follow-ups"
    return {
        "csv": f"{base}?{here}&format=csv",
        "xlsx": f"{base}?{here}&format=xlsx",
        "before": f"{base}?month={before.month}",
        "after": f"{base}?month={after.month}",
    }


MONTHLY_READERS = (Role.SERVICE_MANAGER,)
MONTHLY_FORMATS = ("html", "pdf", "xlsx")


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]  # noqa: RUF012

    @get("/follow-ups", guards=[roles(*READERS)])
    async def follow_ups(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template | Response[bytes]:
        """`?month=YYYY-MM` (the current month without it) or `?from=…&to=…`, both days
        included; `&format=csv` or `&format=xlsx` for the file."""
        query = {name: request.query_params.get(name, "") for name in QUERY}
        now = utcnow()
        try:
            if (kind := query["format"] or "html") not in FORMATS:
                raise InvalidInput(_("The report comes as a page, CSV or XLSX."), field="format")
            period = report_period.parse(
                settings.tz, now, query["month"], query["from"], query["to"]
            )
        except InvalidInput as exc:
            # The forms again with what was typed and the field marked; nothing is counted.
            refusal = Refusal(request.url.path, query, exc.field, exc.message)
            context: dict[str, Any] = {
                "report": None,
                "refusal": refusal,
                "heading": _("Follow-up report"),
            }
            return render(request, "reports/follow_ups.html", context, status_code=422)
        today = now.astimezone(settings.tz).date()
        report = await follow_up_report.build(db_session, period, today)
        title = follow_up_view.title(report)
        if kind != "html":
            sections = follow_up_view.sections(report, settings.tz)
            body, media_type = (
                (exports.to_csv(title, sections), exports.CSV_TYPE) if kind == "csv"
                else (exports.to_xlsx(title, sections), exports.XLSX_TYPE)
            )  # fmt: skip
            filename = f"follow-up-report-{period.slug}.{kind}"
            return Response(
                body,
                media_type=media_type,
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        context = {
            "refusal": None,
            "report": report,
            "heading": title,
            "period_label": follow_up_view.period_label(period),
            "charts": follow_up_view.charts_for(report),
            "links": _links(period, settings),
            "per_cent": follow_up_view.per_cent,
            "hours": follow_up_view.hours,
            "score": follow_up_view.score,
        }
        return render(
            request, "reports/follow_ups.html", context, fragment="reports/_follow_ups.html"
        )

    @get("/monthly", guards=[roles(*MONTHLY_READERS)])
    async def monthly(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template | Response[bytes]:
        """The monthly management report: `?month=YYYY-MM` (this month without it);
        `&format=pdf` or `&format=xlsx` for the file, in the reader's language."""
        query = {name: request.query_params.get(name, "") for name in ("month", "format")}
        now = utcnow()
        try:
            if (kind := query["format"] or "html") not in MONTHLY_FORMATS:
                raise InvalidInput(_("The report comes as a page, PDF or XLSX."), field="format")
            period = report_period.parse(settings.tz, now, query["month"])
        except InvalidInput as exc:
            refusal = Refusal(request.url.path, query, exc.field, exc.message)
            context: dict[str, Any] = {"report": None, "refusal": refusal}
            return render(request, "reports/monthly.html", context, status_code=422)
        shop = await dealership.current(db_session)
        if shop is None:
            raise NotFound(_("The dealership is not set up."))
        report = await monthly.build(db_session, shop, period, settings.tz, now)
        fmt = Formatter(settings.timezone, settings.currency)
        context = monthly_view.context(report, shop, fmt, settings)
        filename = f"monthly-report-{period.slug}.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if kind == "xlsx":
            sections = monthly_view.sections(report, fmt, context["names"])
            body = exports.to_xlsx(monthly_view.title(report), sections)
            return Response(body, media_type=exports.XLSX_TYPE, headers=disposition)
        if kind == "pdf":
            pdf = await monthly_pdf.render_async(monthly_pdf.html(settings, context))
            return Response(pdf, media_type="application/pdf", headers=disposition)
        return render(
            request, "reports/monthly.html", {**context, "refusal": None},
            fragment="reports/_monthly.html",
        )  # fmt: skip
