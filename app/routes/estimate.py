"""The estimate: one page, and one endpoint per change, each answering with the estimate region.

Every change posts a form to /work-orders/{id}/estimate/<change>; `_load` reads the
order and the form, and `_changed` answers alike for all: the estimate region for
htmx, a redirect to the page for a plain form post.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.i18n import get_locale
from app.models import Role, WorkOrder
from app.models.base import utcnow
from app.services.catalogue import search as catalogue_search
from app.services.estimate import editing, guards, menus, return_visit, terms
from app.services.estimate import view as estimate_view
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_int, form_version
from app.web.render import is_fragment, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
Form = dict[str, Any]
Answer = Template | Redirect


async def _load(
    request: Request[Any, Any, Any], db: AsyncSession, order_id: int
) -> tuple[WorkOrder, Form]:
    order = await estimate_view.get_order(db, order_id)
    return order, await form_data(request)


async def _changed(
    request: Request[Any, Any, Any], db: AsyncSession, settings: Settings, order: WorkOrder
) -> Answer:
    await db.flush()
    if not is_fragment(request):
        return Redirect(f"/work-orders/{order.id}/estimate", status_code=303)
    ctx = await estimate_view.context(db, order, settings, actor_for(request), utcnow())
    return render(request, "estimate/_estimate.html", ctx)


class EstimateController(Controller):
    path = "/work-orders/{order_id:int}/estimate"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["estimate"]  # noqa: RUF012

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order = await estimate_view.get_order(db_session, order_id)
        if order.signed_at is not None:
            return Redirect(f"/work-orders/{order_id}", status_code=303)
        check_in = await guards.check_in_of(db_session, order)
        if not guards.completed(check_in):
            # Looking never moves the order on: the check-in comes first.
            return render(
                request,
                "estimate/check_in_first.html",
                {"order": order, "check_in": check_in, "message": guards.check_in_first()},
                status_code=409,
            )
        ctx = await estimate_view.context(db_session, order, settings, actor_for(request), utcnow())
        return render(request, "estimate/index.html", ctx)

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
        q: str = "",
        job: int = 0,
    ) -> Template:
        today = utcnow().astimezone(settings.tz).date()
        hits = await catalogue_search.search(db_session, q, today)
        return render(
            request,
            "estimate/_search.html",
            {
                "hits": hits,
                "job_id": job,
                "q": q,
                "target": "#estimate",
                "add_url": f"/work-orders/{order_id}/estimate/add-line",
            },
        )

    @post("/start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        """Orders whose check-in completed before the estimate opened itself."""
        order, _form = await _load(request, db_session, order_id)
        await editing.start(db_session, order, actor_for(request))
        return await _changed(request, db_session, settings, order)

    @post("/add-job")
    async def add_job(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.add_job(
            db_session, order, form.get("title"), form_version(form), actor_for(request)
        )
        return await _changed(request, db_session, settings, order)

    @post("/add-line")
    async def add_line(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.add_line(
            db_session, order, form_int(form, "job"), str(form.get("kind", "")),
            form_int(form, "item"), form.get("quantity"), form_version(form),
            actor_for(request), utcnow().astimezone(settings.tz).date(),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/quantity")
    async def quantity(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.set_quantity(
            db_session, order, form_int(form, "line"), form.get("quantity"),
            form_version(form), actor_for(request),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/price")
    async def price(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.set_price(
            db_session, order, form_int(form, "line"), form.get("price"), form.get("reason"),
            form_version(form), actor_for(request),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/remove-line")
    async def remove_line(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.remove_line(
            db_session, order, form_int(form, "line"), form_version(form), actor_for(request)
        )
        return await _changed(request, db_session, settings, order)

    @post("/remove-job")
    async def remove_job(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.remove_job(
            db_session, order, form_int(form, "job"), form_version(form), actor_for(request)
        )
        return await _changed(request, db_session, settings, order)

    @post("/warranty")
    async def warranty(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.set_job_flags(
            db_session, order, form_int(form, "job"), form_version(form), actor_for(request),
            warranty=parsing.flag(form.get("value")),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/decline")
    async def decline(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await editing.set_job_flags(
            db_session, order, form_int(form, "job"), form_version(form), actor_for(request),
            declined=parsing.flag(form.get("value")),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/menu")
    async def menu(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await menus.add_menu_package(
            db_session, order, form_int(form, "package"), get_locale(), form_version(form),
            actor_for(request), utcnow().astimezone(settings.tz).date(),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/discount")
    async def discount(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await terms.set_discount(
            db_session, order, form.get("discount"), form.get("discount_reason"),
            form_version(form), actor_for(request),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/promised")
    async def promised(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, form = await _load(request, db_session, order_id)
        await terms.set_promised_at(
            db_session, order, form.get("promised_at"), settings.tz, form_version(form),
            actor_for(request), utcnow(),
        )  # fmt: skip
        return await _changed(request, db_session, settings, order)

    @post("/return-visit")
    async def book_return_visit(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Answer:
        order, _form = await _load(request, db_session, order_id)
        await return_visit.book_return_visit(db_session, order, settings.tz, actor_for(request))
        return await _changed(request, db_session, settings, order)
