from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Role
from app.models.base import utcnow
from app.routes.workshop import VIEWERS
from app.services import board_events, dealership, lookup
from app.services.appointments import booking
from app.services.complaints import alerts as complaint_alerts
from app.services.lane_board import board as lane_board
from app.services.lane_board import search
from app.settings import Settings
from app.web.auth import ALL_STAFF, actor_for, roles
from app.web.render import is_fragment, render

FRONT_DESK = (Role.ADVISOR, Role.SERVICE_MANAGER)
# Roles that may open the workshop's event stream: their board updates the moment a
# finding is reported (others refresh every 30 s).
LIVE = VIEWERS


async def _board(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> Template:
    seen = board_events.broker.version  # before loading: a later change reloads the board
    dealer = await dealership.current(db_session)
    if dealer is None:
        board = await lane_board.load(db_session, settings.tz)
    else:
        board = await lane_board.load(
            db_session, settings.tz, dealer.greeting_minutes,
            late_minutes=dealer.late_minutes, no_show_minutes=dealer.no_show_minutes,
        )  # fmt: skip
    user = request.scope.get("user")
    # The service manager's banner: serious, escalated and overdue complaints, live.
    urgent = (
        await complaint_alerts.board_banner(db_session, utcnow())
        if user is not None and user.has_any_role(Role.SERVICE_MANAGER)
        else []
    )
    return render(
        request,
        "lane_board/index.html",
        {
            "complaints": urgent,
            "board": board,
            "dealer": dealer,
            "seen": seen,
            "live": LIVE,
            "q": "",
            "min_query": lookup.MIN_QUERY,
        },
        fragment="lane_board/_board.html",
    )


class LaneBoardController(Controller):
    path = "/lane"
    tags = ["lane board"]  # noqa: RUF012

    @get("/", guards=[roles(*ALL_STAFF)])
    async def board(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        return await _board(request, db_session, settings)

    @get("/search", guards=[roles(*FRONT_DESK)])
    async def find(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        q: FromQuery[str] = "",
    ) -> Template:
        """Plate, name, phone or order number; HTMX gets the results alone."""
        hits = await search.find(db_session, q, settings.tz)
        return render(
            request,
            "lane_board/search.html",
            {"q": q, "hits": hits, "min_query": lookup.MIN_QUERY},
            fragment="lane_board/_search_results.html",
        )

    @post("/appointments/{appointment_id:int}/arrived", guards=[roles(*FRONT_DESK)])
    async def arrived(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Template | Redirect:
        await lane_board.mark_arrived(db_session, appointment_id, actor_for(request))
        if is_fragment(request):
            return await _board(request, db_session, settings)
        return Redirect("/lane", status_code=303)

    @post("/appointments/{appointment_id:int}/no-show", guards=[roles(*FRONT_DESK)])
    async def no_show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Template | Redirect:
        """爽约: only once the board's no-show rule holds (checked again by the booking)."""
        await booking.mark_no_show(
            db_session, settings, appointment_id, actor_for(request), utcnow()
        )
        if is_fragment(request):
            return await _board(request, db_session, settings)
        return Redirect("/lane", status_code=303)
