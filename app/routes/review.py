"""Customer mode: the tablet in the customer's hands, in the customer's language.

Entering it locks the tablet's session, on the server, to the review screens of
one order (see `require_sign_in`): every copy of the session's cookie obeys it.
Only the advisor's password unlocks staff screens; wrong ones count against the
tablet, not the advisor's account (`app.services.staff.sessions`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError
from app.i18n import _, set_locale
from app.models import Role, StaffUser, WorkOrder
from app.models.base import utcnow
from app.services.delivery import view as delivery_view
from app.services.estimate import ready, terms
from app.services.estimate import view as estimate_view
from app.services.staff import customer_mode
from app.services.staff import sessions as staff_sessions
from app.services.storage.files import FileStore
from app.settings import Settings
from app.web.auth import (
    actor_for,
    current_session,
    customer_mode_order,
    enter_customer_mode,
    roles,
    signed_in_session,
)
from app.web.form import form_data, form_version
from app.web.render import go, is_fragment, render, toast_headers

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
IN_CUSTOMER_MODE = {"customer_mode": True}


async def _order_in_hand(
    request: Request[Any, Any, Any], db: AsyncSession, order_id: int
) -> WorkOrder:
    """The order the tablet holds, with the page in the customer's language."""
    order = await customer_mode.order_in_hand(db, customer_mode_order(request), order_id)
    set_locale(customer_mode.review_locale(current_session(request), order))
    return order


def _ink(form: Any) -> dict[str, Any]:
    """The signature pad's fields, as the work order's and the delivery's signing take them."""
    return {
        "signer_name": form.get("signer_name"),
        "strokes_json": form.get("strokes"),
        "image_data_url": form.get("image"),
    }


class ReviewController(Controller):
    path = "/"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["customer-mode"]  # noqa: RUF012

    @post("/work-orders/{order_id:int}/customer-mode")
    async def enter(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect:
        order = await estimate_view.get_order(db_session, order_id)
        await ready.hand_over(db_session, order, actor_for(request), utcnow())
        enter_customer_mode(request, order.id, order.customer.locale)
        return Redirect(f"/review/{order.id}", status_code=303)

    @get("/review/{order_id:int}", opt=IN_CUSTOMER_MODE)
    async def review(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        order = await _order_in_hand(request, db_session, order_id)
        after = await customer_mode.next_screen(db_session, order)
        if after is not None:
            return Redirect(after, status_code=303)
        ctx = await estimate_view.review_context(
            db_session, order, settings, actor_for(request), utcnow()
        )
        return render(request, "review/index.html", {**ctx, "customer_mode": True})

    @post("/review/{order_id:int}/language", opt=IN_CUSTOMER_MODE)
    async def language(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        order = await _order_in_hand(request, db_session, order_id)
        form = await form_data(request)
        customer_mode.choose_language(current_session(request), order, str(form.get("locale", "")))
        return go(request, f"/review/{order_id}")

    @post("/review/{order_id:int}/consent", opt=IN_CUSTOMER_MODE)
    async def consent(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        order = await _order_in_hand(request, db_session, order_id)
        form = await form_data(request)
        await terms.set_consent(
            db_session, order, str(form.get("name", "")), str(form.get("value")) == "1",
            form_version(form), actor_for(request),
        )  # fmt: skip
        await db_session.flush()
        return render(request, "review/_consents.html", {"order": order, "oob_version": True})

    @post("/review/{order_id:int}/sign", opt=IN_CUSTOMER_MODE)
    async def sign(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        order = await _order_in_hand(request, db_session, order_id)
        form = await form_data(request)
        await customer_mode.sign(
            db_session, order, customer_mode_order(request), current_session(request),
            **_ink(form), currency=settings.currency,
            version=form_version(form), actor=actor_for(request), now=utcnow(),
        )  # fmt: skip
        return go(request, f"/review/{order_id}/thanks")

    @get("/review/{order_id:int}/thanks", opt=IN_CUSTOMER_MODE)
    async def thanks(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template:
        order = await _order_in_hand(request, db_session, order_id)
        ctx = await customer_mode.thanks_context(db_session, order, settings)
        return render(request, "review/thanks.html", {**ctx, "customer_mode": True})

    @get("/review/{order_id:int}/delivery", opt=IN_CUSTOMER_MODE)
    async def delivery(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template:
        """The car handed back: check-in beside now, the bill, the customer's signature;
        once signed, their thanks and their copy."""
        await _order_in_hand(request, db_session, order_id)
        ctx = await delivery_view.context(db_session, order_id, settings, utcnow())
        if ctx["st"].delivery is None:
            raise Conflict(_("Start the delivery first."))
        page = "review/delivered.html" if ctx["st"].signed else "review/delivery.html"
        return render(request, page, {**ctx, "customer_mode": True})

    @post("/review/{order_id:int}/delivery/sign", opt=IN_CUSTOMER_MODE)
    async def sign_delivery(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        order = await _order_in_hand(request, db_session, order_id)
        form = await form_data(request)
        await customer_mode.sign_delivery(
            db_session, order, customer_mode_order(request), current_session(request),
            **_ink(form), currency=settings.currency,
            version=form_version(form), actor=actor_for(request), now=utcnow(),
        )  # fmt: skip
        return go(request, f"/review/{order_id}/delivery")

    @post("/review/{order_id:int}/send-copy", opt=IN_CUSTOMER_MODE, status_code=200)
    async def send_copy(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        order_id: FromPath[int],
    ) -> Response[str] | Redirect:
        """The signed copy to the customer's phone or e-mail, from the thanks page."""
        order = await _order_in_hand(request, db_session, order_id)
        form = await form_data(request)
        channel = str(form.get("channel", ""))
        told = await customer_mode.send_copy(
            db_session, order, settings, store, channel=channel,
            to=form.get("phone" if channel == "sms" else "email"), actor=actor_for(request),
        )  # fmt: skip
        if is_fragment(request):
            return Response("", media_type=MediaType.TEXT, headers=toast_headers(told, level="ok"))
        return Redirect(f"/review/{order_id}/thanks", status_code=303)

    @get("/customer-mode/exit", opt=IN_CUSTOMER_MODE)
    async def exit_page(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "review/exit.html", {"order_id": customer_mode_order(request)})

    @post("/customer-mode/exit", opt=IN_CUSTOMER_MODE)
    async def exit(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Redirect | ClientRedirect:
        """Back to staff screens with the signed-in advisor's password. Wrong ones
        are counted against this tablet and lock its exit for a while; the
        advisor's account (sign-in elsewhere) is never locked by them."""
        user: StaffUser = request.scope["user"]
        row = signed_in_session(request)
        form = await form_data(request)
        try:
            order_id = await staff_sessions.exit_customer_mode(
                db_session, row, user, str(form.get("password", "")), actor_for(request),
                max_failures=settings.login_max_failures,
                lockout_minutes=settings.login_lockout_minutes, now=utcnow(),
            )  # fmt: skip
        except DomainError:
            await db_session.commit()  # the tablet's failure count persists
            raise
        return go(request, await customer_mode.back_to(db_session, order_id))
