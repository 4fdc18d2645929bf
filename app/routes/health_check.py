"""The health check (健康车检) in the bay: one page per order, each item saved on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, InvalidInput
from app.i18n import _, set_locale
from app.models import HealthCheck, Role, Vehicle, WorkOrder
from app.models.base import utcnow
from app.services.documents import pdf
from app.services.health_check import checklist, checks, customer, recommendations
from app.services.records import get_or_404
from app.services.storage.files import FileStore
from app.services.supplements import findings
from app.settings import Settings
from app.web.auth import actor_for, enter_customer_mode, roles
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
    actor = actor_for(request)
    pricing = actor.has_role(*recommendations.PRICING_ROLES) and check is not None
    found = await checks.results(db, check.id) if check else []
    may_change = order.status in checks.OPEN_STATUSES and actor_for(request).has_role(
        *(r.value for r in WORKERS)
    )
    return {
        "order": order, "vehicle": vehicle, "check": check,
        "groups": checks.grouped(found), "counts": checks.counts(found),
        "photos": await checks.photos_by_result(db, check.id) if check else {},
        "recommendations": await recommendations.listed(db, check) if pricing and check else [],
        "may_price": pricing and check is not None and check.completed_at is not None
        and order.status in checks.OPEN_STATUSES,
        "may_start": may_change, "writable": may_change and check is not None
        and check.completed_at is None,
        **_labels(),
    }  # fmt: skip


def _labels() -> dict[str, Any]:
    return {
        "colour_labels": checks.colour_labels(), "label": checks.label,
        "status_labels": findings.status_labels(),
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
        counts = checks.counts(await checks.results(db_session, result.health_check_id))
        return render(
            request, "health_check/_item.html",
            {"r": result, "writable": True, "order_id": order, "counts": counts,
             "check": saved.check, "summary_oob": True, **_labels()},
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

    @post("/{order_id:int}/price", guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER)])
    async def price(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        await recommendations.price(db_session, order_id, actor_for(request), utcnow())
        return go(request, f"/health-checks/{order_id}#recommendations")

    @post("/{order_id:int}/send", guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER)])
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        channel = str((await form_data(request)).get("channel", ""))
        token = await recommendations.send(
            db_session, order_id, channel, settings, actor_for(request), utcnow()
        )
        if channel == "tablet":
            # The customer answers on this tablet: locked to the customer's screens.
            enter_customer_mode(request, order_id)
            return go(request, f"/health/{token}")
        return go(request, f"/health-checks/{order_id}?sent={channel}#recommendations")


class HealthCheckAnswerController(Controller):
    """The customer's side: no staff sign-in; the link's token is the key."""

    path = "/health"
    tags = ["health check"]  # noqa: RUF012

    async def _open(self, db: AsyncSession, check: HealthCheck) -> tuple[HealthCheck, WorkOrder]:
        """The check's order; the customer's language from here on."""
        order = await db.get(WorkOrder, check.work_order_id)
        assert order is not None  # noqa: S101  (foreign key)
        set_locale(order.customer.locale)
        return check, order

    @get("/{token:str}", opt={"public": True})
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        token: FromPath[str],
    ) -> Template:
        try:
            check, order = await self._open(
                db_session, await customer.by_token(db_session, token, utcnow())
            )
        except DomainError as refused_link:
            # The customer's phone gets a page of its own, not the staff error page.
            return render(
                request, "supplements/link_error.html",
                {"message": refused_link.message, "status": refused_link.status_code,
                 "withdrawn": False},
                status_code=refused_link.status_code,
            )  # fmt: skip
        context = await recommendations.customer_context(
            db_session, check, order.customer.locale, store
        )
        return render(request, "health_check/answer.html", {**context, "token": token})

    @post("/{token:str}", opt={"public": True})
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        token: FromPath[str],
    ) -> Template:
        check, order = await self._open(
            db_session, await customer.by_token(db_session, token, utcnow())
        )
        form = await form_data(request)
        await customer.decide(
            db_session, check, form, locale=order.customer.locale, currency=settings.currency,
            actor=actor_for(request), now=utcnow(),
        )  # fmt: skip
        await db_session.flush()
        context = await recommendations.customer_context(
            db_session, check, order.customer.locale, store
        )
        return render(request, "health_check/answered.html", {**context, "token": token})

    async def _copy(self, db: AsyncSession, token: str, store: FileStore) -> dict[str, Any]:
        check, order = await self._open(db, await customer.copy_by_token(db, token, utcnow()))
        context = await recommendations.customer_context(db, check, order.customer.locale, store)
        return {**context, "token": token}

    @get("/{token:str}/copy", opt={"public": True})
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        token: FromPath[str],
    ) -> Template:
        """The customer's copy: what was found and what was answered, behind the same link."""
        context = await self._copy(db_session, token, store)
        return render(request, "health_check/answered.html", context)

    @get("/{token:str}/copy.pdf", opt={"public": True})
    async def copy_pdf(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        token: FromPath[str],
    ) -> Response[bytes]:
        context = await self._copy(db_session, token, store)
        template = pdf.environment(settings).get_template("pdf/health_check.html")
        document = template.render(**context, font=pdf.FONT)
        body = await asyncio.to_thread(pdf.from_html, document)
        name = f"health-check-{context['order'].number}.pdf"
        return Response(
            body, media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )  # fmt: skip


def _checklist_context(vehicle_type: str, found: list[Any]) -> dict[str, Any]:
    return {
        "vehicle_type": vehicle_type, "items": found,
        "type_labels": checklist.vehicle_type_labels(), "group_labels": checks.group_labels(),
        "limits": checklist.LIMITS, "measured": checks.measured,
    }  # fmt: skip


class ChecklistController(Controller):
    """The service manager's checklist per vehicle type."""

    path = "/health-checks/checklist"
    guards = [roles(Role.SERVICE_MANAGER)]  # noqa: RUF012
    tags = ["health check"]  # noqa: RUF012

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        vehicle_type: str = "car",
    ) -> Template:
        vehicle_type = checklist.parse_vehicle_type(vehicle_type)
        found = await checklist.items(db_session, vehicle_type)
        return render(
            request, "health_check/checklist.html", _checklist_context(vehicle_type, found)
        )

    async def _saved(
        self, request: Request[Any, Any, Any], db: AsyncSession, vehicle_type: str, form: Any,
        change: Any,
    ) -> Template | Redirect | ClientRedirect:  # fmt: skip
        try:
            await change()
        except InvalidInput as exc:
            if is_fragment(request):
                raise  # htmx keeps what was typed and marks the field
            found = await checklist.items(db, vehicle_type)
            context = _checklist_context(vehicle_type, found)
            return refused(request, "health_check/checklist.html", context, exc, form)
        return go(request, f"/health-checks/checklist?vehicle_type={vehicle_type}")

    @post("/{item_id:int}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        item_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        vehicle_type = checklist.parse_vehicle_type(form.get("vehicle_type"))
        return await self._saved(
            request, db_session, vehicle_type, form,
            lambda: checklist.update(db_session, item_id, form, actor_for(request)),
        )  # fmt: skip

    @post("/new")
    async def add(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        vehicle_type = checklist.parse_vehicle_type(form.get("vehicle_type"))
        return await self._saved(
            request, db_session, vehicle_type, form,
            lambda: checklist.add(db_session, vehicle_type, form, actor_for(request)),
        )  # fmt: skip
