"""The foreman's board (车间看板): dispatch from the queue, the customer
waiting on site, promised times to renegotiate; kept live by server-sent events."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.models import Role, TaskStatus
from app.models.base import utcnow
from app.services import board_events
from app.services.workshop import board as workshop_board
from app.services.workshop import jobs as workshop
from app.services.workshop.board import STAGES, Board
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.form import form_data, form_version
from app.web.limits import is_id
from app.web.render import is_fragment, refused, render

VIEWERS = (Role.FOREMAN, Role.SERVICE_MANAGER, Role.ADVISOR, Role.QC_INSPECTOR, Role.TECHNICIAN)
DISPATCHERS = (Role.FOREMAN, Role.SERVICE_MANAGER)
FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
WAITING_ROLES = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.FOREMAN)
KEEP_ALIVE_SECONDS = 15.0
RETRY_MS = 3000  # how soon a dropped stream reconnects


def optional_int(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and is_id(int(text)) else None


def technician_load(board: Board) -> Counter[int]:
    """Jobs each technician has on hand: the foreman dispatches to the least busy."""
    return Counter(
        row.task.technician_id
        for card in board.cards
        for row in card.tasks
        if row.task.technician_id and row.task.status != TaskStatus.FINISHED.value
    )


async def board_context(db: AsyncSession, settings: Settings) -> dict[str, Any]:
    # Read before loading: a change committed after this makes the stream reload the board.
    seen = board_events.broker.version
    board = await workshop_board.load(db, settings.tz)
    return {"board": board, "stages": STAGES, "load": technician_load(board), "seen": seen}


async def board_stream(seen: str | None) -> AsyncIterator[ServerSentEventMessage]:
    """One `board` event per committed workshop change, a comment every 15 s
    so proxies keep the line open; ends at shutdown or when the client leaves
    (Litestar cancels the stream on disconnect, which unsubscribes)."""
    with board_events.broker.subscribe() as queue:
        # Sent at once: the headers go out and the request's database session closes.
        yield ServerSentEventMessage(comment="connected", data=None, retry=RETRY_MS)
        current = board_events.broker.version
        if seen is not None and seen != current:
            # Something changed between the page and this connection (or a reconnect).
            yield ServerSentEventMessage(event="board", data=current, id=current)
        while True:
            try:
                version = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            if version is None:
                return
            yield ServerSentEventMessage(event="board", data=version, id=version)


class WorkshopController(Controller):
    path = "/workshop"
    tags = ["workshop"]  # noqa: RUF012

    async def _after_change(
        self, request: Request[Any, Any, Any], db: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        if not is_fragment(request):
            return Redirect("/workshop", status_code=303)
        await db.flush()
        return render(request, "workshop/_board.html", await board_context(db, settings))

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        settings: Settings,
        exc: InvalidInput,
        form: dict[str, Any],
    ) -> Template:
        """htmx keeps the form as typed; a plain post gets the board back with it (422)."""
        if is_fragment(request):
            raise exc
        context = await board_context(db, settings)
        return refused(request, "workshop/index.html", context, exc, form)

    @get("/", guards=[roles(*VIEWERS)])
    async def page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        context = await board_context(db_session, settings)
        return render(request, "workshop/index.html", context, fragment="workshop/_board.html")

    @get("/board", guards=[roles(*VIEWERS)])
    async def board(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        context = await board_context(db_session, settings)
        return render(request, "workshop/_board.html", context)

    @get("/events", guards=[roles(*VIEWERS)])
    async def events(
        self, request: Request[Any, Any, Any], seen: FromQuery[str | None] = None
    ) -> ServerSentEvent:
        # No database session here: the stream stays open for hours.
        last = request.headers.get("last-event-id") or seen
        return ServerSentEvent(
            board_stream(last),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @post("/tasks/{task_id:int}/dispatch", guards=[roles(*DISPATCHERS)])
    async def dispatch(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        task_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await workshop.dispatch(
                db_session, task_id, optional_int(form.get("technician_id")),
                actor_for(request), utcnow(), form_version(form),
            )  # fmt: skip
        except InvalidInput as exc:
            return await self._refused(request, db_session, settings, exc, form)
        return await self._after_change(request, db_session, settings)

    @post("/orders/{order_id:int}/waiting", guards=[roles(*WAITING_ROLES)])
    async def waiting(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        await workshop_board.set_customer_waiting(
            db_session, order_id, form.get("waiting") == "1", actor_for(request)
        )
        return await self._after_change(request, db_session, settings)

    @post("/orders/{order_id:int}/promise", guards=[roles(*FRONT_DESK)])
    async def promise(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        order_id: FromPath[int],
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await workshop_board.record_new_time(
                db_session, order_id, form.get("promised_at"), form.get("reason"),
                settings.tz, actor_for(request), utcnow(),
            )  # fmt: skip
        except InvalidInput as exc:
            return await self._refused(request, db_session, settings, exc, form)
        return await self._after_change(request, db_session, settings)
