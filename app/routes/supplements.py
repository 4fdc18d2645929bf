"""Added work: the advisor's editor, and the customer's approval by link or tablet.

Each change to a draft posts a form to /supplements/{id}/<change>; `_load` reads the
supplement and the form, and `_changed` answers alike for all: the editor region for
htmx, a redirect to the page for a plain form post.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.i18n import set_locale
from app.models import Role, Supplement, WorkOrder
from app.models.base import utcnow
from app.services.catalogue import search as catalogue_search
from app.services.estimate import editing
from app.services.estimate import view as estimate_view
from app.services.supplements import added_work as supplements
from app.services.supplements import findings
from app.services.supplements import view as supplement_view
from app.settings import Settings
from app.web.auth import actor_for, enter_customer_mode, roles
from app.web.form import form_data, form_int
from app.web.render import go, is_fragment, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
Form = dict[str, Any]
Answer = Template | Redirect


async def _load(
    request: Request[Any, Any, Any], db: AsyncSession, supplement_id: int
) -> tuple[Supplement, WorkOrder, Form]:
    supplement, order = await supplements.get(db, supplement_id)
    return supplement, order, await form_data(request)


async def _changed(
    request: Request[Any, Any, Any], db: AsyncSession, supplement: Supplement, order: WorkOrder
) -> Answer:
    await db.flush()
    if not is_fragment(request):
        return Redirect(f"/supplements/{supplement.id}", status_code=303)
    ctx = await supplement_view.context(db, supplement, order)
    return render(request, "supplements/_editor.html", ctx)


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
        ctx = await supplement_view.context(db_session, supplement, order)
        return render(request, "supplements/page.html", ctx)

    @get("/supplements/{supplement_id:int}/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        supplement_id: FromPath[int],
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
                "target": "#supplement",
                "add_url": f"/supplements/{supplement_id}/add-line",
            },
        )

    @post("/supplements/{supplement_id:int}/send")
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        supplement_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        supplement, order, form = await _load(request, db_session, supplement_id)
        channel = str(form.get("channel", ""))
        token = await supplements.send(
            db_session, supplement, order, channel, settings,
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
        ctx = await supplement_view.context(db_session, supplement, order)
        return render(request, "supplements/_editor.html", {**ctx, "sent": channel})

    @post("/supplements/{supplement_id:int}/add-job")
    async def add_job(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
    ) -> Answer:
        supplement, order, form = await _load(request, db_session, supplement_id)
        await editing.add_job(
            db_session, order, form.get("title"), None, actor_for(request), supplement=supplement
        )
        return await _changed(request, db_session, supplement, order)

    @post("/supplements/{supplement_id:int}/add-line")
    async def add_line(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        supplement_id: FromPath[int],
    ) -> Answer:
        supplement, order, form = await _load(request, db_session, supplement_id)
        await editing.add_line(
            db_session, order, form_int(form, "job"), str(form.get("kind", "")),
            form_int(form, "item"), form.get("quantity"), None, actor_for(request),
            utcnow().astimezone(settings.tz).date(), supplement=supplement,
        )  # fmt: skip
        return await _changed(request, db_session, supplement, order)

    @post("/supplements/{supplement_id:int}/remove-line")
    async def remove_line(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
    ) -> Answer:
        supplement, order, form = await _load(request, db_session, supplement_id)
        await supplements.remove_line(
            db_session, supplement, form_int(form, "line"), actor_for(request)
        )
        return await _changed(request, db_session, supplement, order)

    @post("/supplements/{supplement_id:int}/promised")
    async def promised(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        supplement_id: FromPath[int],
    ) -> Answer:
        supplement, order, form = await _load(request, db_session, supplement_id)
        await supplements.set_promised_at(
            db_session, supplement, form.get("promised_at"), settings.tz, actor_for(request),
            utcnow(),
        )  # fmt: skip
        return await _changed(request, db_session, supplement, order)

    @post("/supplements/{supplement_id:int}/withdraw")
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        supplement_id: FromPath[int],
    ) -> Answer:
        supplement, order, form = await _load(request, db_session, supplement_id)
        await findings.withdraw(
            db_session, supplement, form.get("reason"), actor_for(request), utcnow()
        )
        return await _changed(request, db_session, supplement, order)


PUBLIC = {"public": True}


class ApprovalController(Controller):
    """The customer's side: no staff sign-in; the link's token is the key."""

    path = "/approve"
    tags = ["supplements"]  # noqa: RUF012

    async def _open(self, db: AsyncSession, token: str) -> tuple[Supplement, WorkOrder]:
        """The link's supplement, in the customer's language from here on."""
        supplement = await supplements.by_token(db, token, utcnow())
        supplement, order = await supplements.get(db, supplement.id)
        set_locale(order.customer.locale)
        return supplement, order

    @get("/{token:str}", opt=PUBLIC)
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        token: FromPath[str],
    ) -> Template:
        try:
            supplement, order = await self._open(db_session, token)
            ctx = await supplement_view.approval_context(db_session, supplement, order, token)
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
        settings: NamedDependency[Settings],
        token: FromPath[str],
    ) -> Template | Redirect | ClientRedirect:
        supplement, order = await self._open(db_session, token)
        form = await form_data(request)
        signature = await supplements.decide(
            db_session, supplement, order, approve=form.get("decision") == "approve",
            signer_name=form.get("signer_name"), strokes_json=form.get("strokes"),
            image_data_url=form.get("image"), locale=order.customer.locale,
            currency=settings.currency, actor=actor_for(request),
            now=utcnow(), acknowledged=form.get("acknowledge") == "1",
        )  # fmt: skip
        await db_session.flush()
        context = {"supplement": supplement, "order": order, "signature": signature}
        return render(request, "supplements/decided.html", context)
