"""The QC inspector's final check (终检): the cars waiting for it, and the final
QC report (最终质量检查报告单) that passes a car or sends jobs back as rework."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role, StaffUser, WorkOrderStatus
from app.models.base import utcnow
from app.services import board_events
from app.services.check_in.view import labels as check_in_labels
from app.services.final_check import inspection as final_check
from app.services.final_check import report as final_check_report
from app.services.workshop import board as workshop_board
from app.services.workshop import jobs as workshop
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.render import go, render

# The inspector acts; the service manager may look (the service refuses anyone else's verdict).
VIEWERS = (Role.QC_INSPECTOR, Role.SERVICE_MANAGER)
RECENT = 20


def _values(form: dict[str, Any], name: str) -> list[str]:
    raw = form.get(name, [])
    return [str(v) for v in (raw if isinstance(raw, list) else [raw])]


def _ids(form: dict[str, Any], name: str) -> list[int]:
    return [int(v) for v in _values(form, name) if v.strip().isdigit()]


async def _staff(db: AsyncSession, ids: set[int]) -> dict[int, StaffUser]:
    found = {uid: await db.get(StaffUser, uid) for uid in ids}
    return {uid: user for uid, user in found.items() if user is not None}


async def _report(
    db: AsyncSession, st: final_check.State, user: StaffUser, now: Any
) -> dict[str, Any]:
    people = {i.inspector_id for i in st.inspections}
    for task, _job in st.tasks:
        people |= {i for i in (task.technician_id, task.mutual_checked_by_id) if i}
    hours: dict[int, Decimal] = {t.id: workshop.clocked_hours(t, now) for t, _j in st.tasks}
    in_qc = st.order.status == WorkOrderStatus.QC
    inspector = user.has_any_role(Role.QC_INSPECTOR)
    worked_on = user.id in st.workers
    return {
        "st": st,
        "order": st.order,
        "vehicle": st.order.vehicle,
        "customer": st.order.customer,
        "check_in": st.check_in,
        "item_labels": final_check.item_labels(),
        "reasons": final_check.REASONS,
        "reason_labels": final_check.reason_labels(),
        "belonging_labels": check_in_labels()["belongings"],
        "staff": await _staff(db, people),
        "hours": hours,
        "in_qc": in_qc,
        # Who may give the verdict; the service decides again on the post.
        "inspector": inspector,
        "worked_on": worked_on,
        "can_act": in_qc and inspector and not worked_on,
        "recorded": await final_check_report.rounds(db, st),
        "checks": await final_check_report.checks(db, st),
    }


class FinalCheckController(Controller):
    path = "/final-check"
    guards = [roles(*VIEWERS)]  # noqa: RUF012
    tags = ["final-check"]  # noqa: RUF012

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        seen = board_events.broker.version  # before loading, as on the board
        board = await workshop_board.load(db_session, settings.tz)
        # Each car's latest verdict, newest first.
        inspected = sorted(
            ((c.last_inspection, c) for c in board.cards if c.last_inspection is not None),
            key=lambda pair: pair[0].id,
            reverse=True,
        )[:RECENT]
        ids = {inspection.inspector_id for inspection, _card in inspected}
        ctx = {
            "seen": seen,
            "board": board,
            "waiting": board.column(WorkOrderStatus.QC.value),
            "inspected": inspected,
            "staff": await _staff(db_session, ids),
            "reason_labels": final_check.reason_labels(),
        }
        return render(request, "final_check/index.html", ctx, fragment="final_check/_queue.html")

    @get("/{order_id:int}")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Template:
        st = await final_check.state(db_session, order_id)
        ctx = await _report(db_session, st, request.scope["user"], utcnow())
        return render(request, "final_check/report.html", ctx)

    @post("/{order_id:int}")
    async def inspect(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        order_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        form = await form_data(request)
        await final_check.inspect(
            db_session, order_id, passed=str(form.get("passed", "")) == "1",
            ticked=_values(form, "items"), odometer_km=form.get("odometer_km"),
            fuel_eighths=form.get("fuel_eighths"), reason_category=form.get("reason_category"),
            note=form.get("note"), rework_job_ids=_ids(form, "rework_job_ids"),
            actor=actor_for(request), now=utcnow(), version=form_version(form),
        )  # fmt: skip
        return go(request, "/final-check")
