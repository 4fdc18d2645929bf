from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.models import Role
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
        return render(request, "walk_in/new.html", {"form": {}, "region": settings.region})

    @post("/new")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[NewVehicleForm],
    ) -> Template | Redirect:
        fields = asdict(data)
        try:
            # Names, phones and plates are one line each.
            cleaned = clean_fields(fields, multiline=False)
            new = customers.NewVehicle(**{**cleaned, "vin_override": bool(data.vin_override)})
            vehicle = await customers.create_with_vehicle(
                db_session, new, settings.region, actor_for(request)
            )
        except DomainError as exc:  # raised before anything is added: nothing to undo
            return render(
                request,
                "walk_in/new.html",
                {
                    "form": fields,
                    "region": settings.region,
                    "error": exc.message,
                    "error_field": exc.field,
                },
                status_code=exc.status_code,
            )
        check_in = await check_ins.start_walk_in(db_session, vehicle.id, actor_for(request))
        return Redirect(f"/check-ins/{check_in.id}/{check_in.step}", status_code=303)
