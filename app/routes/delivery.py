"""Delivery (交车): the car walked with the customer against the check-in
record, the bill against what was signed, the advice and the next service,
and the customer's signed acceptance."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.errors import InvalidInput
from app.models import Role
from app.models.base import utcnow
from app.services.delivery import handover as delivery
from app.services.delivery import view as delivery_view
from app.settings import Settings
from app.web.auth import actor_for, enter_customer_mode, roles
from app.web.form import form_data
from app.web.render import go, is_fragment, refused, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)


class DeliveryController(Controller):
    path = "/delivery"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["delivery"]  # noqa: RUF012

    @get("/{order_id:int}")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template:
        ctx = await delivery_view.context(db_session, order_id, settings, utcnow())
        if ctx["st"].signed:
            return render(request, "delivery/delivered.html", ctx)
        return render(request, "delivery/page.html", ctx)

    @get("/{order_id:int}/problems")
    async def problems(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template:
        """What still blocks the signature: re-read after each delivery photo arrives."""
        ctx = await delivery_view.context(db_session, order_id, settings, utcnow())
        return render(request, "delivery/_problems.html", ctx)

    @post("/{order_id:int}/begin")
    async def begin(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        await delivery.begin(db_session, order_id, actor_for(request))
        return go(request, f"/delivery/{order_id}")

    @post("/{order_id:int}/damage")
    async def damage(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await delivery.record_new_damage(
                db_session, order_id, form.get("position"), form.get("note"), actor_for(request)
            )
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await delivery_view.context(db_session, order_id, settings, utcnow())
            return refused(request, "delivery/page.html", ctx, exc, form)
        await db_session.flush()
        if not is_fragment(request):
            return Redirect(f"/delivery/{order_id}", status_code=303)
        ctx = await delivery_view.context(db_session, order_id, settings, utcnow(), oob=True)
        return render(request, "delivery/_damage.html", ctx)

    @post("/{order_id:int}/details")
    async def details(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await delivery.set_details(
                db_session, order_id, advice=form.get("advice"),
                next_service_on=form.get("next_service_on"),
                next_service_km=form.get("next_service_km"),
                old_parts_shown=parsing.flag(form.get("old_parts_shown")), actor=actor_for(request),
                today=utcnow().astimezone(settings.tz).date(),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await delivery_view.context(db_session, order_id, settings, utcnow())
            return refused(request, "delivery/page.html", ctx, exc, form)
        await db_session.flush()
        if not is_fragment(request):
            return Redirect(f"/delivery/{order_id}", status_code=303)
        ctx = await delivery_view.context(db_session, order_id, settings, utcnow(), oob=True)
        return render(request, "delivery/_details.html", {**ctx, "saved": True})

    @post("/{order_id:int}/customer-mode")
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        """The tablet to the customer, locked to their acceptance (customer mode)."""
        st = await delivery.hand_over(db_session, order_id, actor_for(request))
        enter_customer_mode(request, st.order.id, st.order.customer.locale)
        return go(request, f"/review/{order_id}/delivery")
