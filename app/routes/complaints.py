"""Complaints (投诉): the list, a new complaint, the record with its seven steps, the
manager's badge, a complaint opened from a follow-up call."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.errors import InvalidInput
from app.i18n import _
from app.models import Role, Vehicle, WorkOrder
from app.models.base import utcnow
from app.services import lookup
from app.services.complaints import access, alerts, closing, record, steps, tracking, view
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.limits import is_id
from app.web.render import go, is_fragment, refused, render

HANDLERS = (Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)
READERS = (*HANDLERS, Role.ADVISOR)
STEP_ACTIONS = (
    "listen", "facts", "decide", "explain", "act", "follow-up", "close", "send-back",
    "acknowledge", "pause", "resume", "severity",
)  # fmt: skip


def _optional_id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and is_id(int(text)) else None


async def _new_context(
    db: AsyncSession, q: str, order_id: int | None, vehicle_id: int | None
) -> dict[str, Any]:
    order = await db.get(WorkOrder, order_id) if order_id else None
    vehicle = await db.get(Vehicle, order.vehicle_id if order else vehicle_id) if (
        order or vehicle_id
    ) else None  # fmt: skip
    now = utcnow()
    return {
        "q": q, "hits": await lookup.find_vehicles(db, q) if q else [],
        "order": order, "vehicle": vehicle,
        "orders": await view.orders_for(db, vehicle.id) if vehicle else [],
        "repeats": await record.repeats(db, vehicle.id, now) if vehicle else [],
        "labels": view.labels(), "min_query": lookup.MIN_QUERY,
    }  # fmt: skip


async def _record(
    request: Request[Any, Any, Any], db: AsyncSession, settings: Settings, complaint_id: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    actor = actor_for(request)
    complaint = await access.readable(db, complaint_id, actor)
    now = utcnow()
    ctx = await view.context(db, complaint, actor, now, now.astimezone(settings.tz).date())
    return {**ctx, **(extra or {})}


class ComplaintController(Controller):
    path = "/complaints"
    guards = [roles(*READERS)]  # noqa: RUF012
    tags = ["complaints"]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        show: FromQuery[str] = "open",
    ) -> Template:
        now = utcnow()
        ctx = await view.listing(
            db_session, actor_for(request), show, now, now.astimezone(settings.tz).date()
        )
        return render(request, "complaints/index.html", ctx, fragment="complaints/_list.html")

    @get("/badge", guards=[roles(*HANDLERS)])
    async def badge(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        """The app bar's count of open serious, escalated or overdue complaints."""
        count = await alerts.badge_count(db_session, utcnow())
        return render(request, "complaints/_badge.html", {"count": count})

    @get("/new", guards=[roles(*HANDLERS)])
    async def new(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str] = "",
        order: FromQuery[int | None] = None,
        vehicle: FromQuery[int | None] = None,
    ) -> Template:
        ctx = await _new_context(db_session, q.strip()[:80], order, vehicle)
        return render(request, "complaints/new.html", ctx, fragment="complaints/_find.html")

    @post("/new", guards=[roles(*HANDLERS)])
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        order_id = _optional_id(form.get("work_order_id"))
        vehicle_id = _optional_id(form.get("vehicle_id"))
        try:
            complaint = await record.create(
                db_session, settings, actor_for(request), utcnow(),
                work_order_id=order_id, vehicle_id=vehicle_id, channel=form.get("channel"),
                words=form.get("words"), severity=form.get("severity"),
                threat=parsing.flag(form.get("threat")),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await _new_context(db_session, "", order_id, vehicle_id)
            return refused(request, "complaints/new.html", ctx, exc, form)
        return go(request, f"/complaints/{complaint.id}")

    @post("/escalate", guards=[roles(*HANDLERS)])
    async def escalate(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Redirect | ClientRedirect:
        """Overdue complaints to the manager (also `python -m app complaints escalate`)."""
        await alerts.escalate_overdue(db_session, utcnow(), settings)
        return go(request, "/complaints?show=overdue")

    @post("/from-call/{attempt_id:int}", guards=[roles(*HANDLERS)])
    async def from_call(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        attempt_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        complaint = await record.from_call(
            db_session, settings, attempt_id, actor_for(request), utcnow()
        )
        return go(request, f"/complaints/{complaint.id}")

    @get("/{complaint_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        complaint_id: FromPath[int],
    ) -> Template:
        ctx = await _record(request, db_session, settings, complaint_id)
        return render(request, "complaints/record.html", ctx, fragment="complaints/_record.html")

    @post("/{complaint_id:int}/actions", guards=[roles(*HANDLERS)])
    async def add_action(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        complaint_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        now = utcnow()
        try:
            await tracking.add_action(
                db_session, complaint_id, actor_for(request), form_version(form), now,
                kind=form.get("action_kind"), description=form.get("description"),
                owner_id=form.get("owner_id"), due_on=form.get("due_on"),
                today=now.astimezone(settings.tz).date(),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await _record(request, db_session, settings, complaint_id)
            return refused(request, "complaints/record.html", ctx, exc, form)
        return go(request, f"/complaints/{complaint_id}#actions")

    @post("/{complaint_id:int}/actions/{action_id:int}/done", guards=[roles(*HANDLERS)])
    async def action_done(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        complaint_id: FromPath[int],
        action_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        await tracking.action_done(
            db_session, complaint_id, action_id, actor_for(request), utcnow()
        )
        return go(request, f"/complaints/{complaint_id}#actions")

    # Each change its own URL (no catch-all /{action}); one handler, as the forms are alike.
    @post([f"/{{complaint_id:int}}/{action}" for action in STEP_ACTIONS], guards=[roles(*HANDLERS)])
    async def step(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        complaint_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        """One step of the record: the server re-checks the step and the form's version."""
        action = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        form = await form_data(request)
        try:
            await _apply(db_session, settings, request, complaint_id, action, form)
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await _record(request, db_session, settings, complaint_id)
            return refused(request, "complaints/record.html", ctx, exc, form)
        if not is_fragment(request):
            return Redirect(f"/complaints/{complaint_id}", status_code=303)
        ctx = await _record(request, db_session, settings, complaint_id)
        return render(request, "complaints/_record.html", ctx)


async def _apply(  # noqa: PLR0912 - one branch per step, the steps' forms in one place
    db: AsyncSession, settings: Settings, request: Request[Any, Any, Any], complaint_id: int,
    action: str, form: dict[str, Any],
) -> None:  # fmt: skip
    actor, now, version = actor_for(request), utcnow(), form_version(form)
    if version is None:
        raise InvalidInput(_("Some of the information sent was not valid."), field="version")
    get = form.get
    match action:
        case "listen":
            summary = {k: get(k) for k in steps.SUMMARY_FIELDS}
            read_back = parsing.flag(get("read_back"))
            await steps.listen(db, complaint_id, actor, version, now, words=get("words"),
                               summary=summary, read_back=read_back)  # fmt: skip
        case "facts":
            await steps.facts(db, complaint_id, actor, version, now, facts=get("facts"),
                              cause=get("cause"), responsibility=get("responsibility"))  # fmt: skip
        case "decide":
            await steps.decide(db, complaint_id, actor, version, now, decision=get("decision"),
                               amount=get("amount"))  # fmt: skip
        case "explain":
            await steps.explain(db, complaint_id, actor, version, now,
                                explanation=get("explanation"), agreed=get("agreed"))  # fmt: skip
        case "act":
            await steps.act(db, complaint_id, actor, version, now, kind=get("kind"),
                            action=get("action"), rework_order=get("rework_order"))  # fmt: skip
        case "follow-up":
            await closing.schedule_check_call(db, complaint_id, actor, version, now)
        case "close":
            await closing.close(db, complaint_id, actor, version, now)
        case "send-back":
            await closing.send_back(db, complaint_id, actor, version, now, step=get("step"))
        case "acknowledge":
            await steps.acknowledge(db, complaint_id, actor, version, now)
        case "pause":
            await tracking.pause(db, complaint_id, actor, version, now, get("reason"))
        case "resume":
            await tracking.resume(db, settings, complaint_id, actor, version, now)
        case "severity":
            complaint = await access.for_change(db, complaint_id, actor, version)
            await record.raise_severity(db, settings, complaint, get("severity"), actor, now)
