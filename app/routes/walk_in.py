from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role
from app.services import lookup
from app.web.auth import roles
from app.web.render import render


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
