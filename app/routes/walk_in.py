from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.models import Role, Vehicle
from app.services import customers, lookup
from app.services.check_in import steps as check_ins
from app.settings import Settings
from app.text import clean_fields
from app.web.auth import actor_for, roles
from app.web.render import render


@dataclass
class NewVehicleForm:
    name: str = ""
    phone: str = ""
    plate: str = ""
    vin: str = ""
    make: str = ""
    model: str = ""
    year: str = ""
    colour: str = ""
    vin_override: str = ""


class WalkInController(Controller):
    path = "/walk-in"
    guards = [roles(Role.ADVISOR, Role.SERVICE_MANAGER)]  # noqa: RUF012
    tags = ["check-in"]  # noqa: RUF012

    @get("/")
    async def lookup_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str] = "",
    ) -> Template:
        vehicles = await lookup.find_vehicles(db_session, q)
        return render(
            request,
            "walk_in/index.html",
            {"q": q, "vehicles": vehicles, "min_query": lookup.MIN_QUERY},
            fragment="walk_in/_results.html",
        )

    @get("/new")
    async def new_page(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Template:
        return render(request, "walk_in/new.html", customer_form(settings, "/walk-in/new"))

    @post("/new")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[NewVehicleForm],
    ) -> Template | Redirect:
        vehicle = await new_customer(request, db_session, settings, data, "/walk-in/new")
        if isinstance(vehicle, Template):
            return vehicle
        check_in = await check_ins.start_walk_in(db_session, vehicle.id, actor_for(request))
        return Redirect(f"/check-ins/{check_in.id}/{check_in.step}", status_code=303)


def customer_form(
    settings: Settings, action: str, fields: dict[str, Any] | None = None, submit: str = ""
) -> dict[str, Any]:
    """The new customer and vehicle form's context: the walk-in's, or the booking's (which
    posts elsewhere and says where it goes next)."""
    return {"form": fields or {}, "region": settings.region, "form_action": action,
            "submit_label": submit}  # fmt: skip


async def new_customer(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    settings: Settings,
    data: NewVehicleForm,
    action: str,
    submit: str = "",
) -> Vehicle | Template:
    """A new customer and vehicle from the form, or the form again with what was typed and
    the field marked."""
    fields = asdict(data)
    try:
        # Names, phones and plates are one line each.
        cleaned = clean_fields(fields, multiline=False)
        new = customers.NewVehicle(**{**cleaned, "vin_override": bool(data.vin_override)})
        return await customers.create_with_vehicle(
            session, new, settings.region, actor_for(request)
        )
    except DomainError as exc:  # raised before anything is added: nothing to undo
        ctx = customer_form(settings, action, fields, submit)
        ctx |= {"error": exc.message, "error_field": exc.field}
        return render(request, "walk_in/new.html", ctx, status_code=exc.status_code)
