"""Added work: the advisor's editor, and the customer's approval by link or tablet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, NotFound
from app.i18n import _, set_locale
from app.models import Role, StaffUser, Supplement, WorkOrder
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.catalogue import search as catalogue_search
from app.services.estimate import editing, pricing
from app.services.estimate import view as estimate_view
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from app.web.auth import actor_for, enter_customer_mode, roles
from app.web.form import form_data, form_int
from app.web.render import go, is_fragment, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
Form = dict[str, Any]
Action = Callable[[AsyncSession, Supplement, WorkOrder, Form, Actor, Any], Awaitable[Any]]


def _today(request: Any) -> Any:
    return utcnow().astimezone(request.app.state.settings.tz).date()


ACTIONS: dict[str, Action] = {
    "add-job": lambda db, s, o, f, a, r: editing.add_job(
        db, o, f.get("title"), None, a, supplement=s
    ),
    "add-line": lambda db, s, o, f, a, r: editing.add_line(
        db,
        o,
        form_int(f, "job"),
        str(f.get("kind", "")),
        form_int(f, "item"),
        f.get("quantity"),
        None,
        a,
        _today(r),
        supplement=s,
    ),
    "remove-line": lambda db, s, o, f, a, r: supplements.remove_line(db, s, form_int(f, "line"), a),
    "promised": lambda db, s, o, f, a, r: supplements.set_promised_at(
        db, s, f.get("promised_at"), r.app.state.settings.tz, a, utcnow()
    ),
    "withdraw": lambda db, s, o, f, a, r: findings.withdraw(db, s, f.get("reason"), a, utcnow()),
}


async def _context(db: AsyncSession, supplement: Supplement, order: WorkOrder) -> dict[str, Any]:
    shop = await pricing.dealership(db)
    found = await supplements.jobs(db, supplement)
    people = {
        role: await db.get(StaffUser, user_id) if user_id else None
        for role, user_id in (
            ("reporter", supplement.requested_by_id),
            ("withdrawn_by", supplement.withdrawn_by_id),
        )
    }
    return {
        **people,
        "category_labels": findings.category_labels(),
        "status_labels": findings.status_labels(),
        "photos": await findings.photos_of(db, supplement),
        "supplement": supplement,
        "order": order,
        "vehicle": order.vehicle,
        "customer": order.customer,
        "jobs": found,
        "totals": pricing.compute_totals(found, Decimal("0"), shop.tax_rate),
        "line_amount": pricing.line_amount,
        "job_amount": pricing.job_amount,
    }


class SupplementController(Controller):
    path = "/"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["supplements"]  # noqa: RUF012

    @post("/work-orders/{order_id:int}/supplements")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        order = await estimate_view.get_order(db_session, order_id)
        form = await form_data(request)
        supplement = await supplements.create(
            db_session, order, form.get("note"), actor_for(request)
        )
        target = f"/supplements/{supplement.id}"
        return go(request, target)

    @get("/supplements/{supplement_id:int}")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
    ) -> Template:
        supplement, order = await supplements.get(db_session, supplement_id)
        ctx = await _context(db_session, supplement, order)
        return render(request, "supplements/page.html", ctx)

    @get("/supplements/{supplement_id:int}/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
        q: str = "",
        job: int = 0,
    ) -> Template:
        hits = await catalogue_search.search(db_session, q, _today(request))
        return render(
            request,
            "estimate/_search.html",
            {
                "hits": hits,
                "job_id": job,
                "q": q,
                "target": "#supplement",
                "add_url": f"/supplements/{supplement_id}/add-line",
            },
        )

    @post("/supplements/{supplement_id:int}/send")
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        supplement, order = await supplements.get(db_session, supplement_id)
        form = await form_data(request)
        channel = str(form.get("channel", ""))
        token = await supplements.send(
            db_session, supplement, order, channel, request.app.state.settings,
            actor_for(request), utcnow(),
        )  # fmt: skip
        if channel == "tablet":
            # The customer answers on this tablet: lock it to the customer's screens.
            enter_customer_mode(request, order.id)
            target = f"/approve/{token}"
            return go(request, target)
        await db_session.flush()
        if not is_fragment(request):
            return Redirect(f"/supplements/{supplement_id}", status_code=303)
        ctx = await _context(db_session, supplement, order)
        return render(request, "supplements/_editor.html", {**ctx, "sent": channel})

    @post("/supplements/{supplement_id:int}/{action:str}")
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
        action: FromPath[str],
    ) -> Template | Redirect:
        handler = ACTIONS.get(action)
        if handler is None:
            raise NotFound(_("This page does not exist."))
        supplement, order = await supplements.get(db_session, supplement_id)
        form = await form_data(request)
        await handler(db_session, supplement, order, form, actor_for(request), request)
        await db_session.flush()
        if not is_fragment(request):
            return Redirect(f"/supplements/{supplement_id}", status_code=303)
        ctx = await _context(db_session, supplement, order)
        return render(request, "supplements/_editor.html", ctx)


PUBLIC = {"public": True}


class ApprovalController(Controller):
    """The customer's side: no staff sign-in; the link's token is the key."""

    path = "/approve"
    tags = ["supplements"]  # noqa: RUF012

    async def _open(
        self, db: AsyncSession, token: str
    ) -> tuple[Supplement, WorkOrder, dict[str, Any]]:
        supplement = await supplements.by_token(db, token, utcnow())
        supplement, order = await supplements.get(db, supplement.id)
        set_locale(order.customer.locale)
        ctx = await _context(db, supplement, order)
        statement = (
            findings.safety_statement(supplement, order.customer.locale)
            if supplement.safety
            else None
        )
        return supplement, order, {
            **ctx, "token": token, "shop": await pricing.dealership(db), "statement": statement,
        }  # fmt: skip

    @get("/{token:str}", opt=PUBLIC)
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        token: FromPath[str],
    ) -> Template:
        try:
            _supplement, _order, ctx = await self._open(db_session, token)
        except DomainError as refused:
            # The customer's phone gets a page of its own, not the staff error page.
            return render(
                request, "supplements/link_error.html",
                {
                    "message": refused.message, "status": refused.status_code,
                    "withdrawn": isinstance(refused, supplements.Withdrawn),
                },
                status_code=refused.status_code,
            )  # fmt: skip
        return render(request, "supplements/approve.html", ctx)

    @post("/{token:str}", opt=PUBLIC)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        token: FromPath[str],
    ) -> Template | Redirect | ClientRedirect:
        supplement, order, _ctx = await self._open(db_session, token)
        form = await form_data(request)
        signature = await supplements.decide(
            db_session, supplement, order, approve=form.get("decision") == "approve",
            signer_name=form.get("signer_name"), strokes_json=form.get("strokes"),
            image_data_url=form.get("image"), locale=order.customer.locale,
            currency=request.app.state.settings.currency, actor=actor_for(request),
            now=utcnow(), acknowledged=form.get("acknowledge") == "1",
        )  # fmt: skip
        await db_session.flush()
        context = {"supplement": supplement, "order": order, "signature": signature}
        return render(request, "supplements/decided.html", context)
