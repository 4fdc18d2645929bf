"""The day before (预约后的准备): tomorrow's bookings with their pre-filled orders, the parts
to reserve and the workshop's load; a page that prints (A4) and the same list as a PDF."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import _, get_locale
from app.models import Role
from app.models.base import utcnow
from app.services import dealership
from app.services.appointments import messages, tomorrow
from app.services.documents import pdf
from app.services.reports import period as report_period
from app.settings import Settings
from app.web.auth import roles
from app.web.form import Refusal
from app.web.render import render

# Who prepares the day before: the advisors, customer relations (who book), the manager.
# There is no parts role: the parts counter reads the printed list.
READERS = (Role.ADVISOR, Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)
FORMATS = ("html", "pdf")
PDF_TEMPLATE = "pdf/tomorrow.html"


def _document(settings: Settings, context: dict[str, Any]) -> str:
    """The PDF's HTML, rendered here in the reader's locale; only WeasyPrint runs in a thread."""
    return pdf.environment(settings).get_template(PDF_TEMPLATE).render(**context, font=pdf.FONT)


class TomorrowController(Controller):
    path = "/appointments/tomorrow"
    guards = [roles(*READERS)]  # noqa: RUF012
    tags = ["appointments"]  # noqa: RUF012

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template | Response[bytes]:
        """`?day=YYYY-MM-DD` (tomorrow without it); `&format=pdf` for the printable file."""
        query = {name: request.query_params.get(name, "") for name in ("day", "format")}
        now = utcnow()
        try:
            if (kind := query["format"] or "html") not in FORMATS:
                raise InvalidInput(_("The list comes as a page or a PDF."), field="format")
            day = (
                report_period.day_or_today(query["day"], settings.tz, now)
                if query["day"].strip()
                else tomorrow.default_day(now, settings.tz)
            )
        except InvalidInput as exc:
            refusal = Refusal(request.url.path, query, exc.field, exc.message)
            context: dict[str, Any] = {"prep": None, "refusal": refusal}
            return render(request, "appointments/tomorrow.html", context, status_code=422)
        shop = await dealership.current(db_session)
        if shop is None:
            raise NotFound(_("The dealership is not set up."))
        prep = await tomorrow.load(db_session, shop, day, settings.tz, now, get_locale())
        context = {
            "refusal": None,
            "prep": prep,
            "shop": shop,
            "bring_label": messages.bring_label,
            "before": (day - timedelta(days=1)).isoformat(),
            "after": (day + timedelta(days=1)).isoformat(),
            "generated": now,
        }
        if kind == "pdf":
            body = await asyncio.to_thread(pdf.from_html, _document(settings, context))
            filename = f"appointments-{day.isoformat()}.pdf"
            return Response(
                body,
                media_type="application/pdf",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return render(
            request,
            "appointments/tomorrow.html",
            context,
            fragment="appointments/tomorrow_list.html",
        )
