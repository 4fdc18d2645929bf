"""The health check (健康车检) in the bay: one page per order, each item saved on its own."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import Role, Vehicle, WorkOrder
from app.models.base import utcnow
from app.services.health_check import checks
from app.services.records import get_or_404
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.render import go, is_fragment, refused, render

WORKERS = (Role.TECHNICIAN, Role.FOREMAN, Role.ADVISOR, Role.SERVICE_MANAGER)


async def _page_context(
    db: AsyncSession, order_id: int, request: Request[Any, Any, Any]
) -> dict[str, Any]:
    order = await get_or_404(db, WorkOrder, order_id, _("That work order does not exist."))
    await checks.may_read(db, order, actor_for(request))
    vehicle = await db.get(Vehicle, order.vehicle_id)
    check = await checks.of_order(db, order.id)
    found = await checks.results(db, check.id) if check else []
    may_change = order.status in checks.OPEN_STATUSES and actor_for(request).has_role(
        *(r.value for r in WORKERS)
    )
    return {
        "order": order, "vehicle": vehicle, "check": check,
        "groups": checks.grouped(found), "counts": checks.counts(found),
        "photos": await checks.photos_by_result(db, check.id) if check else {},
        "may_start": may_change, "writable": may_change and check is not None
        and check.completed_at is None,
        **_labels(),
    }  # fmt: skip


def _labels() -> dict[str, Any]:
    return {
        "colour_labels": checks.colour_labels(), "label": checks.label,
        "measured": checks.measured, "max_photos": checks.MAX_PHOTOS_PER_ITEM,
    }  # fmt: skip


class HealthCheckController(Controller):
    path = "/health-checks"
    tags = ["health check"]  # noqa: RUF012

    @get("/{order_id:int}", guards=[roles(*WORKERS, Role.QC_INSPECTOR)])
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        context = await _page_context(db_session, order_id, request)
        return render(request, "health_check/page.html", context)

    @post("/{order_id:int}/start", guards=[roles(*WORKERS)])
    async def start(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        await checks.start(db_session, order_id, actor_for(request))
        return go(request, f"/health-checks/{order_id}")

    @post("/items/{result_id:int}", guards=[roles(*WORKERS)])
    async def save_item(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        result_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            saved = await checks.save_item(
                db_session, result_id, colour=form.get("colour"),
                measurement=form.get("measurement"), note=form.get("note", ""),
                version=form_version(form), actor=actor_for(request), now=utcnow(),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise  # htmx keeps what was typed in the page and marks the field
            order_id = int(form.get("order_id") or 0)
            context = await _page_context(db_session, order_id, request)
            return refused(request, "health_check/page.html", context, exc, form)
        result = saved.result
        order = await checks.order_of(db_session, result.health_check_id)
        if not is_fragment(request):
            return Redirect(f"/health-checks/{order}#item-{result.id}", status_code=303)
        return render(
            request, "health_check/_item.html",
            {"r": result, "writable": True, "order_id": order, **_labels()},
        )  # fmt: skip

    @post("/{order_id:int}/complete", guards=[roles(*WORKERS)])
    async def complete(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        await checks.complete(db_session, order_id, actor_for(request), utcnow())
        return go(request, f"/health-checks/{order_id}")
