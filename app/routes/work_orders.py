"""The work order after the check-in: its page, signature verification and audit log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role
from app.models.base import utcnow
from app.services import audit_labels, work_order_view, work_orders
from app.services.estimate import view as estimate_view
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.render import render

# Everyone who works on the car may read its order and check its signatures.
READERS = (
    Role.ADVISOR, Role.SERVICE_MANAGER, Role.FOREMAN, Role.QC_INSPECTOR,
    Role.CUSTOMER_RELATIONS,
)  # fmt: skip


class WorkOrderController(Controller):
    path = "/"
    guards = [roles(*READERS)]  # noqa: RUF012
    tags = ["work-orders"]  # noqa: RUF012

    @get("/work-orders/{order_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template:
        ctx = await work_order_view.page_context(
            db_session, order_id, settings, actor_for(request), utcnow()
        )
        return render(request, "work_orders/show.html", ctx)

    @get("/verify/{signature_id:int}")
    async def verify(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        signature_id: FromPath[int],
        format: str = "html",
    ) -> Template | Response[Any]:
        """Recompute the signed record from the database: intact, or what differs."""
        result = await work_order_view.verification(db_session, signature_id, settings.currency)
        if format == "json" or "application/json" in request.headers.get("accept", ""):
            return Response(work_order_view.verification_json(result))
        order = await estimate_view.get_order(db_session, result.signature.work_order_id)
        return render(request, "work_orders/verify.html", {"result": result, "order": order})

    @get("/work-orders/{order_id:int}/audit")
    async def audit_log(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        order = await estimate_view.get_order(db_session, order_id)
        events = await work_orders.audit_events(db_session, order_id)
        return render(
            request,
            "work_orders/audit.html",
            {"order": order, "events": events, "action_labels": audit_labels.action_labels()},
        )

    @get("/work-orders/{order_id:int}/audit.csv")
    async def audit_csv(
        self, db_session: NamedDependency[AsyncSession], order_id: FromPath[int]
    ) -> Response[bytes]:
        order = await estimate_view.get_order(db_session, order_id)
        return Response(
            await work_orders.audit_csv(db_session, order_id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{order.number}.csv"'},
        )
