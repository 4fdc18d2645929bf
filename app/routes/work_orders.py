"""The work order after the check-in: its page, signature verification and audit log."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.i18n import _
from app.models import AuditEvent, CheckIn, Role, Signature, StaffUser
from app.models.base import utcnow
from app.services.delivery import handover as delivery
from app.services.estimate import view as estimate_view
from app.services.final_check import report as final_check_report
from app.services.signing import signatures
from app.services.supplements import findings
from app.text import spreadsheet_cell
from app.web.auth import actor_for, roles
from app.web.render import render

# Everyone who works on the car may read its order and check its signatures.
READERS = (
    Role.ADVISOR, Role.SERVICE_MANAGER, Role.FOREMAN, Role.QC_INSPECTOR,
    Role.CUSTOMER_RELATIONS,
)  # fmt: skip


async def _audit_events(db: AsyncSession, order_id: int) -> list[tuple[AuditEvent, str]]:
    check_in_id = await db.scalar(select(CheckIn.id).where(CheckIn.work_order_id == order_id))
    rows = await db.execute(
        select(AuditEvent, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.actor_id)
        .where(
            or_(
                (AuditEvent.entity_type == "work_order") & (AuditEvent.entity_id == str(order_id)),
                (AuditEvent.entity_type == "check_in") & (AuditEvent.entity_id == str(check_in_id)),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [(event, name or "") for event, name in rows.all()]


class WorkOrderController(Controller):
    path = "/"
    guards = [roles(*READERS)]  # noqa: RUF012
    tags = ["work-orders"]  # noqa: RUF012

    @get("/work-orders/{order_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        order = await estimate_view.get_order(db_session, order_id)
        ctx = await estimate_view.context(
            db_session, order, request.app.state.settings, actor_for(request), utcnow()
        )
        ctx["delivery"] = await delivery.get_delivery(db_session, order.id)
        ctx["qc_reports"] = await final_check_report.for_order(db_session, order.id)
        ctx |= await findings.order_context(db_session, order.id)
        return render(request, "work_orders/show.html", ctx)

    @get("/verify/{signature_id:int}")
    async def verify(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        signature_id: FromPath[int],
        format: str = "html",
    ) -> Template | Response[Any]:
        """Recompute the signed record from the database: intact, or what differs."""
        signature = await db_session.get(Signature, signature_id)
        if signature is None:
            raise NotFound(_("That signature does not exist."))
        result = await signatures.verify(db_session, signature, request.app.state.settings.currency)
        if format == "json" or "application/json" in request.headers.get("accept", ""):
            return Response(
                {
                    "signature_id": signature.id,
                    "work_order_id": signature.work_order_id,
                    "kind": signature.kind,
                    "signed_at": signature.signed_at.isoformat(),
                    "signer_name": signature.signer_name,
                    "content_hash": signature.content_hash,
                    "intact": result.intact,
                    "content_matches_hash": result.content_matches_hash,
                    "seal_matches": result.seal_matches,
                    "differences": [
                        {"path": d.path, "signed": d.signed, "now": d.now}
                        for d in result.differences
                    ],
                }
            )
        order = await estimate_view.get_order(db_session, signature.work_order_id)
        return render(request, "work_orders/verify.html", {"result": result, "order": order})

    @get("/work-orders/{order_id:int}/audit")
    async def audit_log(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        order = await estimate_view.get_order(db_session, order_id)
        events = await _audit_events(db_session, order_id)
        return render(request, "work_orders/audit.html", {"order": order, "events": events})

    @get("/work-orders/{order_id:int}/audit.csv")
    async def audit_csv(
        self, db_session: NamedDependency[AsyncSession], order_id: FromPath[int]
    ) -> Response[bytes]:
        order = await estimate_view.get_order(db_session, order_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["at", "actor", "action", "entity", "device", "ip", "user_agent", "details"]
        )
        for event, name in await _audit_events(db_session, order_id):
            writer.writerow([
                spreadsheet_cell(cell) for cell in (
                    event.at.isoformat(), name, event.action,
                    f"{event.entity_type}:{event.entity_id}", event.device_id, event.ip,
                    event.user_agent, str(event.details),
                )
            ])  # fmt: skip
        return Response(
            # A BOM so that Excel opens the Chinese text as UTF-8.
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{order.number}.csv"'},
        )
