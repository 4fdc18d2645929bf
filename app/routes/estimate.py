"""The estimate: one page, and one action endpoint that answers with the estimate region."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.i18n import _, get_locale
from app.models import Role, WorkOrder
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.catalogue import search as catalogue_search
from app.services.estimate import editing, guards, menus, return_visit, terms
from app.services.estimate import view as estimate_view
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_int, form_version
from app.web.render import is_fragment, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
Form = dict[str, Any]
# One estimate action: (session, order, form, version, actor, request) -> done.
Action = Callable[[AsyncSession, WorkOrder, Form, int | None, Actor, Any], Awaitable[Any]]


def _flag(form: Form, name: str) -> bool:
    return str(form.get(name, "")).lower() in {"1", "true", "on", "yes"}


async def _promised(
    db: AsyncSession, order: WorkOrder, form: Form, v: int | None, a: Actor, r: Any
) -> Any:
    settings = r.app.state.settings
    return await terms.set_promised_at(
        db, order, form.get("promised_at"), settings.tz, v, a, utcnow()
    )


ACTIONS: dict[str, Action] = {
    # Orders whose check-in completed before the estimate opened itself.
    "start": lambda db, o, f, v, a, r: editing.start(db, o, a),
    "add-job": lambda db, o, f, v, a, r: editing.add_job(db, o, f.get("title"), v, a),
    "add-line": lambda db, o, f, v, a, r: editing.add_line(
        db,
        o,
        form_int(f, "job"),
        str(f.get("kind", "")),
        form_int(f, "item"),
        f.get("quantity"),
        v,
        a,
        utcnow().astimezone(r.app.state.settings.tz).date(),
    ),
    "quantity": lambda db, o, f, v, a, r: editing.set_quantity(
        db, o, form_int(f, "line"), f.get("quantity"), v, a
    ),
    "price": lambda db, o, f, v, a, r: editing.set_price(
        db, o, form_int(f, "line"), f.get("price"), f.get("reason"), v, a
    ),
    "remove-line": lambda db, o, f, v, a, r: editing.remove_line(db, o, form_int(f, "line"), v, a),
    "remove-job": lambda db, o, f, v, a, r: editing.remove_job(db, o, form_int(f, "job"), v, a),
    "warranty": lambda db, o, f, v, a, r: editing.set_job_flags(
        db, o, form_int(f, "job"), v, a, warranty=_flag(f, "value")
    ),
    "decline": lambda db, o, f, v, a, r: editing.set_job_flags(
        db, o, form_int(f, "job"), v, a, declined=_flag(f, "value")
    ),
    "menu": lambda db, o, f, v, a, r: menus.add_menu_package(
        db,
        o,
        form_int(f, "package"),
        get_locale(),
        v,
        a,
        utcnow().astimezone(r.app.state.settings.tz).date(),
    ),
    "discount": lambda db, o, f, v, a, r: terms.set_discount(
        db, o, f.get("discount"), f.get("discount_reason"), v, a
    ),
    "promised": _promised,
    "return-visit": lambda db, o, f, v, a, r: return_visit.book_return_visit(
        db, o, r.app.state.settings.tz, a
    ),
}


class EstimateController(Controller):
    path = "/work-orders/{order_id:int}/estimate"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["estimate"]  # noqa: RUF012

    async def _context(
        self, request: Request[Any, Any, Any], db: AsyncSession, order: WorkOrder
    ) -> dict[str, Any]:
        return await estimate_view.context(
            db, order, request.app.state.settings, actor_for(request), utcnow()
        )

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        order = await estimate_view.get_order(db_session, order_id)
        if order.signed_at is not None:
            return Redirect(f"/work-orders/{order_id}", status_code=303)
        check_in = await guards.check_in_of(db_session, order)
        if check_in is None or check_in.completed_at is None:
            # Looking never moves the order on: the check-in comes first.
            return render(
                request,
                "estimate/check_in_first.html",
                {"order": order, "check_in": check_in, "message": guards.check_in_first()},
                status_code=409,
            )
        ctx = await self._context(request, db_session, order)
        return render(request, "estimate/index.html", ctx)

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
        q: str = "",
        job: int = 0,
    ) -> Template:
        today = utcnow().astimezone(request.app.state.settings.tz).date()
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

    @post("/{action:str}")
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
        action: FromPath[str],
    ) -> Template | Redirect:
        handler = ACTIONS.get(action)
        if handler is None:
            raise NotFound(_("This page does not exist."))
        order = await estimate_view.get_order(db_session, order_id)
        form = await form_data(request)
        await handler(db_session, order, form, form_version(form), actor_for(request), request)
        await db_session.flush()
        if not is_fragment(request):
            return Redirect(f"/work-orders/{order_id}/estimate", status_code=303)
        ctx = await self._context(request, db_session, order)
        return render(request, "estimate/_estimate.html", ctx)
