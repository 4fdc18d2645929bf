"""Service reminders (客户关怀): the list of cars due, and acting on a row in place."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import Formatter, _
from app.models import Role
from app.models.base import utcnow
from app.services.reminders import actions, booking, view
from app.services.reminders import due as due_list
from app.services.reminders.actions import Outcome
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import Refusal, form_data
from app.web.render import go, is_fragment, refused, render

USERS = (Role.ADVISOR, Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)


def _one(form: dict[str, Any], name: str) -> str:
    raw = form.get(name, "")
    return str(raw[-1] if isinstance(raw, list) else raw)


async def _page(
    request: Request[Any, Any, Any], session: AsyncSession, settings: Settings, query: view.Query
) -> dict[str, Any]:
    today = utcnow().astimezone(settings.tz).date()
    h = await due_list.horizon(session, today, query.days)
    found = await due_list.load(session, settings.tz, h, query.filters)
    return {
        "found": found,
        "horizon": h,
        "filters": query.filters,
        "band_labels": view.band_labels(h.days),
        "query": {name: request.query_params.get(name, "") for name in view.QUERY},
        **await view.common(session, today),
    }


class ReminderController(Controller):
    path = "/reminders"
    guards = [roles(*USERS)]  # noqa: RUF012
    tags = ["reminders"]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """`?kind=&band=&advisor=&days=&page=`: the filters, all optional."""
        raw = {name: request.query_params.get(name, "") for name in view.QUERY}
        try:
            query = view.parse(raw)
        except InvalidInput as exc:
            ctx = await _page(request, db_session, settings, view.Query(due_list.Filters(), None))
            ctx["refusal"] = Refusal(request.url.path, raw, exc.field, exc.message)
            return render(request, "reminders/index.html", ctx, status_code=422)
        ctx = await _page(request, db_session, settings, query)
        return render(request, "reminders/index.html", ctx, fragment="reminders/_list.html")

    async def _done(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        done: Outcome,
    ) -> Template | Redirect | ClientRedirect:
        if not is_fragment(request):
            return go(request, "/reminders")
        today = utcnow().astimezone(settings.tz).date()
        h = await due_list.horizon(session, today, due_list.ACTION_DAYS)
        row = await due_list.one(session, settings.tz, h, done.row.vehicle_id, done.row.kind)
        ctx = {
            **await view.common(session, today),
            "row": row or done.row,
            "handled": row is None,
            "note": view.outcome_note(done, Formatter(settings.timezone, settings.currency)),
            "band_labels": view.band_labels(h.days),
        }
        return render(request, "reminders/_row.html", ctx)

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        exc: InvalidInput,
        form: dict[str, Any],
    ) -> Template:
        if is_fragment(request):
            raise exc
        await session.rollback()
        if request.user is not None and request.user in session:
            # The rollback expired the signed-in user the page's app bar reads.
            await session.refresh(request.user)
        ctx = await _page(request, session, settings, view.Query(due_list.Filters(), None))
        return refused(request, "reminders/index.html", ctx, exc, form)

    @post("/{vehicle_id:int}/send")
    async def send(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        vehicle_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        """Send the reminder by `channel` (sms or email) for the row's `kind`."""
        form = await form_data(request)
        try:
            done = await actions.send(
                db_session, settings, vehicle_id, _one(form, "kind"), _one(form, "channel"),
                actor_for(request), utcnow(),
            )  # fmt: skip
        except InvalidInput as exc:
            return await self._refused(request, db_session, settings, exc, form)
        return await self._done(request, db_session, settings, done)

    @post("/{vehicle_id:int}/book")
    async def book(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        vehicle_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        """Book a visit at `scheduled_at` (local) with `advisor_id`."""
        form = await form_data(request)
        raw = _one(form, "advisor_id").strip()
        try:
            if raw and not (raw.isdigit() and len(raw) <= 9):
                raise InvalidInput(_("Choose the advisor for the visit."), field="advisor_id")
            done = await booking.book(
                db_session, settings, vehicle_id, _one(form, "kind"), _one(form, "scheduled_at"),
                int(raw) if raw else None, actor_for(request), utcnow(),
            )  # fmt: skip
        except InvalidInput as exc:
            return await self._refused(request, db_session, settings, exc, form)
        return await self._done(request, db_session, settings, done)

    @post("/{vehicle_id:int}/answer")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        vehicle_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        """The customer's `answer`: done_elsewhere, sold, not_now (`snooze_until`), opt_out
        (`reason`)."""
        form = await form_data(request)
        try:
            done = await actions.answer(
                db_session, settings, vehicle_id, _one(form, "kind"), _one(form, "answer"),
                actor_for(request), utcnow(), snooze_until=_one(form, "snooze_until"),
                reason=_one(form, "reason"),
            )  # fmt: skip
        except InvalidInput as exc:
            return await self._refused(request, db_session, settings, exc, form)
        return await self._done(request, db_session, settings, done)
