"""Follow-up calls (回访): the queue, the app bar's count, and the call beside the record."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import Formatter
from app.models import Role
from app.models.base import utcnow
from app.services.follow_ups import calls, dormant, evidence
from app.services.follow_ups import queue as follow_up_queue
from app.services.follow_ups import view as follow_up_view
from app.services.follow_ups.questions import QUESTIONS
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.render import go, is_fragment, refused, render

CALLERS = (Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)


def _fmt(settings: Settings) -> Formatter:
    return Formatter(settings.timezone, settings.currency)


def _call_form(form: dict[str, Any]) -> calls.CallForm:
    def one(name: str) -> str:
        raw = form.get(name, "")
        return str(raw[-1] if isinstance(raw, list) else raw)

    return calls.CallForm(
        outcome=one("outcome"),
        answers={code: one(f"answer_{code}") for code in QUESTIONS},
        remarks={code: one(f"remark_{code}") for code in QUESTIONS},
        comment=one("comment"), satisfaction=one("satisfaction"), spoke_with=one("spoke_with"),
        next_call_at=one("next_call_at"), satisfied=one("satisfied"),
        complaint_raised=one("complaint_raised") == "1",
    )  # fmt: skip


class FollowUpController(Controller):
    path = "/follow-ups"
    guards = [roles(*CALLERS)]  # noqa: RUF012
    tags = ["follow-ups"]  # noqa: RUF012

    @get("/")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        tab: FromQuery[str] = "today",
    ) -> Template:
        now = utcnow()
        ctx = {
            "queue": await follow_up_queue.load(db_session, now, settings.tz, tab),
            "now": now,
            **follow_up_view.common_labels(),
        }
        return render(request, "follow_ups/index.html", ctx, fragment="follow_ups/_queue.html")

    @get("/badge")
    async def badge(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The app bar's count, loaded by htmx so ordinary pages never query it."""
        counts = await follow_up_queue.counts(db_session, utcnow(), settings.tz)
        return render(request, "follow_ups/_badge.html", {"counts": counts})

    @post("/dormant")
    async def refresh_dormant(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
    ) -> Redirect | ClientRedirect:
        """Add the customers not seen for months (a change, so a POST, never the GET)."""
        await dormant.create_dormant_tasks(db_session, utcnow(), actor_for(request))
        return go(request, "/follow-ups")

    @get("/{task_id:int}")
    async def call(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template:
        ctx = await follow_up_view.context(db_session, task_id, _fmt(settings))
        return render(request, "follow_ups/call.html", ctx)

    @get("/{task_id:int}/flag/{question:str}")
    async def flag(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
        question: FromPath[str],
    ) -> Template:
        """The record against the answer just tapped: the server decides the flag."""
        task = await calls.task_for_call(db_session, task_id)
        order = await calls.delivered_order(db_session, task)
        found = (
            (await evidence.for_order(db_session, order, _fmt(settings))).get(question)
            if order is not None
            else None
        )
        answer = request.query_params.get(f"answer_{question}", "")
        verdict = evidence.verdict(answer, found.fact if found else None).value
        ctx = {
            "code": question,
            "verdict": verdict,
            "verdict_labels": follow_up_view.verdict_labels(),
        }
        return render(request, "follow_ups/_flag.html", ctx)

    @post("/{task_id:int}")
    async def log(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        try:
            await calls.log_attempt(
                db_session, task_id, _call_form(form), actor=actor_for(request), now=utcnow(),
                fmt=_fmt(settings), version=form_version(form),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            ctx = await follow_up_view.context(db_session, task_id, _fmt(settings))
            return refused(request, "follow_ups/call.html", ctx, exc, form)
        return go(request, f"/follow-ups/{task_id}")
