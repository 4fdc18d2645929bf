"""The vehicle's file (一车一档): /vehicles/{id}."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import get_locale
from app.models import Role
from app.services.complaints import view as complaints_view
from app.services.follow_ups import view as follow_ups_view
from app.services.health_check import checks
from app.services.reminders import view as reminders_view
from app.services.supplements import findings
from app.services.vehicle_file import view
from app.web.auth import actor_for, roles

# Everything, prices and phone numbers included.
DESK = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.QC_INSPECTOR, Role.CUSTOMER_RELATIONS)
# The technical part only: the car, its visits' work, photos and health checks.
WORKSHOP = (Role.TECHNICIAN, Role.FOREMAN)


class VehicleFileController(Controller):
    path = "/vehicles"
    tags = ["vehicle file"]  # noqa: RUF012

    @get("/{vehicle_id:int}", guards=[roles(*DESK, *WORKSHOP)])
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        vehicle_id: FromPath[int],
    ) -> Template:
        found = await view.load(db_session, vehicle_id, get_locale().startswith("zh"))
        full = actor_for(request).has_role(*(r.value for r in DESK))
        return Template(
            template_name="vehicle_file/page.html",
            context={
                "file": found, "full": full, "chart": view.chart(found.readings),
                "colour_labels": checks.colour_labels(), "measured": checks.measured,
                "status_labels": findings.status_labels(),
                "reminder_labels": reminders_view.kind_labels(),
                "follow_up_labels": follow_ups_view.status_labels(),
                "complaint_steps": complaints_view.labels()["step"],
            },
        )  # fmt: skip
