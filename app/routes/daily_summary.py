"""The evening summary (当日总结): the page (printable) and sending it to the managers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import Dealership, Role
from app.models.base import utcnow
from app.services import dealership
from app.services.daily_summary import mail, summary
from app.services.final_check.inspection import reason_labels
from app.settings import Settings
from app.web.auth import roles
from app.web.form import Refusal, form_data
from app.web.render import go, render

READERS = (Role.SERVICE_MANAGER,)


async def _shop(session: AsyncSession) -> Dealership:
    found = await dealership.current(session)
    if found is None:
        raise NotFound(_("The dealership is not set up."))
    return found


class DailySummaryController(Controller):
    path = "/board/summary"
    guards = [roles(*READERS)]  # noqa: RUF012
    tags = ["board"]  # noqa: RUF012

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """`?day=YYYY-MM-DD`, today without it."""
        raw = request.query_params.get("day", "")
        now = utcnow()
        try:
            day = summary.parse_day(raw, settings.tz, now)
        except InvalidInput as exc:
            refusal = Refusal(request.url.path, {"day": raw}, exc.field, exc.message)
            context: dict[str, Any] = {"summary": None, "refusal": refusal}
            return render(request, "daily_summary/index.html", context, status_code=422)
        shop = await _shop(db_session)
        fmt = Formatter(settings.timezone, settings.currency)
        found = await summary.build(db_session, shop, day, settings.tz, now, fmt)
        context = {
            "refusal": None,
            "summary": found,
            "shop": shop,
            "sent": await mail.sent_before(db_session, day),
            "reasons": reason_labels(),
            "severities": mail.severity_names(),
            "before": (day - timedelta(days=1)).isoformat(),
            "after": (day + timedelta(days=1)).isoformat(),
        }
        return render(
            request, "daily_summary/index.html", context, fragment="daily_summary/_summary.html"
        )

    @post("/send")
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Redirect | ClientRedirect:
        """Queue the day's summary for each manager who has not had it; refused when all have."""
        form = await form_data(request)
        now = utcnow()
        day = summary.parse_day(str(form.get("day", "")), settings.tz, now)
        await mail.send(db_session, settings, await _shop(db_session), day, now)
        return go(request, f"/board/summary?day={day.isoformat()}")
