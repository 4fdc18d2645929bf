"""The check-in at the car: step pages, autosave and the small htmx actions.

Over 300 lines because it is the lane's busiest screen: eight steps and their small
actions, each handler a few lines of parse, call and render; the rules are in
app/services/check_in/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import _
from app.models import CheckIn, Role, Step
from app.services.audit import Actor
from app.services.check_in import changes as check_in_changes
from app.services.check_in import fields as check_in_fields
from app.services.check_in import quick, symptoms, walkaround
from app.services.check_in import steps as check_ins
from app.services.check_in.view import step_context
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.render import go, is_fragment, refused, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
# One service call: (check-in, form, version, actor) -> done.
Action = Callable[[CheckIn, dict[str, Any], int | None, Actor], Awaitable[Any]]
CHANGE_VERSION_HEADER = "X-Check-In-Version"
PARTIALS = {
    "covers": "check_in/_covers.html",
    "marks": "check_in/_marks.html",
    "belongings": "check_in/_belongings.html",
    "concerns": "check_in/_concerns.html",
    "saved": "check_in/_saved.html",
}


def _step(name: str) -> Step:
    try:
        return Step(name)
    except ValueError as exc:
        raise NotFound(_("This page does not exist.")) from exc


class CheckInController(Controller):
    path = "/check-ins"
    guards = [roles(*FRONT_DESK)]  # noqa: RUF012
    tags = ["check-in"]  # noqa: RUF012

    async def _partial(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        check_in_id: int,
        part: str,
        page_step: Step,
        version: int,
    ) -> Template | Redirect:
        if not is_fragment(request):  # no htmx: back to the page, which shows the change
            return Redirect(f"/check-ins/{check_in_id}/{page_step.value}", status_code=303)
        check_in = await check_ins.get(db, check_in_id)
        context = await step_context(db, check_in, page_step, settings)
        # The version this change made: the tablet's outbox bases its next change on it.
        headers = {CHANGE_VERSION_HEADER: str(version)}
        return render(request, PARTIALS[part], {**context, "oob_version": True}, headers=headers)

    async def _apply(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        check_in: CheckIn,
        form: dict[str, Any],
        apply: Callable[[], Awaitable[Any]],
        part: str,
        page_step: Step,
    ) -> Template | Redirect:
        """Apply one change (once per change id) and answer with its region. A plain form
        post that is refused gets its page back as typed (htmx keeps it in the page)."""
        try:
            version = await check_in_changes.apply_once(db, check_in, form.get("change_id"), apply)
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            check_in = await check_ins.get(db, check_in.id)
            context = await step_context(db, check_in, page_step, settings)
            return refused(request, f"check_in/{page_step.value}.html", context, exc, form)
        await check_ins.enter_step(db, check_in, page_step)  # work on this step began
        return await self._partial(request, db, settings, check_in.id, part, page_step, version)

    @post("/from-appointment/{appointment_id:int}")
    async def start_from_appointment(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        check_in = await check_ins.start_from_appointment(
            db_session, appointment_id, actor_for(request), settings.tz
        )
        return go(request, f"/check-ins/{check_in.id}/{check_in.step}")

    @post("/walk-in/{vehicle_id:int}")
    async def start_walk_in(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        vehicle_id: FromPath[int],
    ) -> Redirect | ClientRedirect:
        check_in = await check_ins.start_walk_in(db_session, vehicle_id, actor_for(request))
        return go(request, f"/check-ins/{check_in.id}/{check_in.step}")

    @get("/{check_in_id:int}")
    async def resume(
        self, db_session: NamedDependency[AsyncSession], check_in_id: FromPath[int]
    ) -> Redirect:
        check_in = await check_ins.get(db_session, check_in_id)
        target = "done" if check_in.completed_at else check_in.step
        return Redirect(f"/check-ins/{check_in.id}/{target}", status_code=303)

    @get("/{check_in_id:int}/done")
    async def done_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
    ) -> Template:
        check_in = await check_ins.get(db_session, check_in_id)
        context = await step_context(db_session, check_in, Step.SYMPTOMS, settings)
        return render(
            request, "check_in/done.html", {**context, "duration": check_ins.duration(check_in)}
        )

    @get("/{check_in_id:int}/{step:str}")
    async def step_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        step: FromPath[str],
    ) -> Template:
        check_in = await check_ins.get(db_session, check_in_id)
        current = _step(step)
        context = await step_context(db_session, check_in, current, settings)
        return render(request, f"check_in/{current.value}.html", context)

    @post("/{check_in_id:int}/{step:str}/save")
    async def save(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        step: FromPath[str],
    ) -> Template | Redirect:
        current = _step(step)
        check_in = await check_ins.get(db_session, check_in_id)
        form = await form_data(request)
        vehicle = check_in.work_order.vehicle
        return await self._apply(
            request,
            db_session,
            settings,
            check_in,
            form,
            lambda: check_in_fields.save(
                db_session,
                check_in,
                current,
                form,
                form_version(form),
                vehicle,
                actor_for(request),
                region=settings.region,
            ),
            "saved",
            current,
        )

    @post("/{check_in_id:int}/{step:str}/done")
    async def finish_step(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        check_in_id: FromPath[int],
        step: FromPath[str],
    ) -> Redirect | ClientRedirect:
        check_in = await check_ins.get(db_session, check_in_id)
        form = await form_data(request)
        following = await check_ins.finish_step(
            db_session, check_in, _step(step), form_version(form), actor_for(request)
        )
        target = following.value if following else "done"
        return go(request, f"/check-ins/{check_in_id}/{target}")

    @post("/{check_in_id:int}/{step:str}/quick")
    async def quick_answer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        check_in_id: FromPath[int],
        step: FromPath[str],
    ) -> Redirect | ClientRedirect:
        """One tap for the step's usual answer (the greeting as on file, the four covers),
        then the next step."""
        answer = quick.ANSWERS.get(_step(step))
        if answer is None:
            raise NotFound(_("This page does not exist."))
        check_in = await check_ins.get(db_session, check_in_id)
        form = await form_data(request)
        following = await answer(db_session, check_in, form_version(form), actor_for(request))
        return go(request, f"/check-ins/{check_in_id}/{following.value if following else 'done'}")

    async def _act(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        check_in_id: int,
        action: Action,
        part: str,
        page_step: Step,
    ) -> Template | Redirect:
        """Load, apply one service action with the form's version, answer with the region."""
        check_in = await check_ins.get(db, check_in_id)
        form = await form_data(request)
        return await self._apply(
            request,
            db,
            settings,
            check_in,
            form,
            lambda: action(check_in, form, form_version(form), actor_for(request)),
            part,
            page_step,
        )

    @post("/{check_in_id:int}/cover/{kind:str}")
    async def toggle_cover(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        kind: FromPath[str],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, _f, v, a: check_ins.toggle_cover(db_session, ci, kind, v, a),
            "covers",
            Step.COVERS,
        )

    @post("/{check_in_id:int}/marks")
    async def add_mark(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, f, v, a: walkaround.add_mark(
                db_session, ci, f.get("x"), f.get("y"), v, a, view=f.get("view")
            ),
            "marks",
            Step.WALKAROUND,
        )

    @post("/{check_in_id:int}/marks/{mark_id:int}")
    async def save_mark(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        mark_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, f, v, a: walkaround.save_mark(db_session, ci, mark_id, f, v, a),
            "saved",
            Step.WALKAROUND,
        )

    @post("/{check_in_id:int}/marks/{mark_id:int}/delete")
    async def remove_mark(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        mark_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, _f, v, a: walkaround.remove_mark(db_session, ci, mark_id, v, a),
            "marks",
            Step.WALKAROUND,
        )

    @post("/{check_in_id:int}/belongings")
    async def add_belonging(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, f, v, a: walkaround.add_belonging(
                db_session, ci, str(f.get("kind") or ""), f.get("count"), v, a
            ),
            "belongings",
            Step.WALKAROUND,
        )

    @post("/{check_in_id:int}/belongings/{belonging_id:int}/delete")
    async def remove_belonging(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        belonging_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, _f, v, a: walkaround.remove_belonging(db_session, ci, belonging_id, v, a),
            "belongings",
            Step.WALKAROUND,
        )

    @post("/{check_in_id:int}/concerns")
    async def add_concern(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, f, v, a: symptoms.add_concern(
                db_session, ci, str(f.get("customer_words") or ""), v, a
            ),
            "concerns",
            Step.SYMPTOMS,
        )

    @post("/{check_in_id:int}/concerns/{concern_id:int}")
    async def save_concern(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        concern_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, f, v, a: symptoms.save_concern(db_session, ci, concern_id, f, v, a),
            "saved",
            Step.SYMPTOMS,
        )

    @post("/{check_in_id:int}/concerns/{concern_id:int}/delete")
    async def remove_concern(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
        concern_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, _f, v, a: symptoms.remove_concern(db_session, ci, concern_id, v, a),
            "concerns",
            Step.SYMPTOMS,
        )

    @post("/{check_in_id:int}/summary/confirm")
    async def confirm_summary(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        check_in_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._act(
            request,
            db_session,
            settings,
            check_in_id,
            lambda ci, _f, v, a: symptoms.confirm_summary(db_session, ci, v, a),
            "concerns",
            Step.SYMPTOMS,
        )
