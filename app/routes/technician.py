"""The technician's tablet (我的工单): my dispatched jobs in priority order,
the clock, the self-check (自检), the mutual check (互检) of a colleague's
job, and findings on the car reported as added work for the advisor."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import (
    JobTask,
    Role,
)
from app.models.base import utcnow
from app.services import board_events
from app.services.audit import Actor
from app.services.photos.pipeline import MAX_UPLOAD_BYTES
from app.services.storage.files import FileStore
from app.services.supplements import findings
from app.services.workshop import checklist, technician_view
from app.services.workshop import jobs as workshop
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.render import is_fragment, refused, render

WORKERS = (Role.TECHNICIAN, Role.FOREMAN)
# The photos taken with a finding's report, and the multipart framing around them.
FINDING_BODY_LIMIT = findings.MAX_PHOTOS * MAX_UPLOAD_BYTES + 256 * 1024
# A step on a dispatched job: (session, task id, actor, now, version seen) -> the task.
Step = Callable[[AsyncSession, int, Actor, datetime, int | None], Awaitable[JobTask]]
# A check list posted: the step's arguments and the form with the ticks.
Check = Callable[
    [AsyncSession, int, Actor, datetime, int | None, Mapping[str, Any] | None], Awaitable[JobTask]
]


class TechnicianController(Controller):
    path = "/my-jobs"
    guards = [roles(*WORKERS)]  # noqa: RUF012
    tags = ["workshop"]  # noqa: RUF012

    async def _context(
        self, request: Request[Any, Any, Any], db: AsyncSession, settings: Settings
    ) -> dict[str, Any]:
        seen = board_events.broker.version  # before loading, as on the board
        me = actor_for(request).user_id or 0
        return {
            "jobs": await technician_view.my_jobs(db, settings.tz, me),
            "seen": seen,
            "categories": findings.CATEGORIES,
            "safety_categories": findings.SAFETY_CATEGORIES,
            "category_labels": findings.category_labels(),
            "check_label": checklist.label,
        }

    async def _after_change(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        anchor: str,
        note: str | None = None,
    ) -> Template | Redirect:
        if not is_fragment(request):
            return Redirect(f"/my-jobs#{anchor}", status_code=303)
        await db.flush()
        context = await self._context(request, db, settings)
        # A toast beside the swap (not instead of it, as for a refusal).
        headers = {"HX-Trigger": json.dumps({"wa:toast": {"message": note, "level": "ok"}})}
        return render(request, "technician/_jobs.html", context, headers=headers if note else None)

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        context = await self._context(request, db_session, settings)
        return render(request, "technician/index.html", context, fragment="technician/_jobs.html")

    @get("/jobs")
    async def jobs(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        context = await self._context(request, db_session, settings)
        return render(request, "technician/_jobs.html", context)

    async def _step(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        task_id: int,
        step: Step,
    ) -> Template | Redirect:
        form = await form_data(request)
        await step(db, task_id, actor_for(request), utcnow(), form_version(form))
        return await self._after_change(request, db, settings, f"task-{task_id}")

    @post("/tasks/{task_id:int}/start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        started = await workshop.start_job(
            db_session, task_id, actor_for(request), utcnow(), form_version(form)
        )
        note = None
        if started.paused is not None:
            note = _("“%(job)s” is paused: your clock runs on one job at a time.",
                     job=started.paused.title)  # fmt: skip
        return await self._after_change(request, db_session, settings, f"task-{task_id}", note)

    @post("/tasks/{task_id:int}/finish")
    async def finish(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._step(request, db_session, settings, task_id, workshop.finish)

    async def _check(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        task_id: int,
        check: Check,
    ) -> Template | Redirect:
        """A check list posted: refused at the first open item, what was ticked kept."""
        form = await form_data(request)
        try:
            await check(db, task_id, actor_for(request), utcnow(), form_version(form), form)
        except InvalidInput as exc:
            if is_fragment(request):
                raise  # a toast, the field marked in the page, nothing swapped away
            context = await self._context(request, db, settings)
            return refused(request, "technician/index.html", context, exc, form)
        return await self._after_change(request, db, settings, f"task-{task_id}")

    @post("/tasks/{task_id:int}/self-check")
    async def self_check(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._check(request, db_session, settings, task_id, workshop.self_check)

    @post("/tasks/{task_id:int}/mutual-check")
    async def mutual_check(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect:
        return await self._check(request, db_session, settings, task_id, workshop.mutual_check)

    @post("/orders/{order_id:int}/findings", request_max_body_size=FINDING_BODY_LIMIT)
    async def finding(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        sent = form.get("photos", [])
        files = [
            f for f in (sent if isinstance(sent, list) else [sent]) if isinstance(f, UploadFile)
        ]
        photos = [data for f in files if (data := await f.read())]  # an empty input sends b""
        try:
            supplement = await workshop.report_finding(
                db_session, order_id, form.get("note"), actor_for(request), form.get("category"),
                safety=form.get("safety") == "1", photos=photos, store=store,
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            context = await self._context(request, db_session, settings)
            kept = {k: v for k, v in form.items() if k != "photos"}
            return refused(request, "technician/index.html", context, exc, kept)
        return await self._after_change(request, db_session, settings, f"finding-{supplement.id}")
