from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role
from app.services.staff import sign_in as auth_service
from app.web.auth import roles
from app.web.render import render


class AdminController(Controller):
    path = "/admin"
    guards = [roles(Role.ADMIN, Role.SERVICE_MANAGER)]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get("/staff")
    async def staff(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        users = await auth_service.list_users(db_session)
        return render(request, "admin/staff.html", {"users": users, "all_roles": list(Role)})
