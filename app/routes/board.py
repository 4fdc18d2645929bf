"""The service manager's board (看板): the day's figures, live, per advisor or technician,
the vehicles behind each, the wall mode and the targets."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import Formatter, _
from app.models import Dealership, Role
from app.models.base import utcnow
from app.routes.workshop import VIEWERS as LIVE
from app.services import board_events, dealership
from app.services.board import drill, figures, labels, targets, view
from app.settings import Settings
from app.web.auth import roles
from app.web.form import Refusal, form_data
from app.web.render import go, refused, render

READERS = (Role.SERVICE_MANAGER, Role.ADVISOR)
# The targets are a setting: the admin keeps them too (and reads no figures).
SETTERS = (Role.SERVICE_MANAGER, Role.ADMIN)
QUERY = ("day", "advisor", "technician", "wall")


async def _shop(db: AsyncSession) -> Dealership:
    shop = await dealership.current(db)
    if shop is None:
        raise NotFoundException(_("The dealership is not set up."))
    return shop


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in QUERY}


def _here(chosen: view.Chosen, **changes: object) -> str:
    """This board's address with some of its query changed (the pickers, the days)."""
    query: dict[str, object] = {
        "day": chosen.day.isoformat(),
        "advisor": chosen.advisor.id if chosen.advisor and chosen.may_choose else "",
        "technician": chosen.technician.id if chosen.technician else "",
        **changes,
    }
    return "/board?" + "&".join(f"{k}={v}" for k, v in query.items() if v not in ("", None))


class BoardController(Controller):
    path = "/board"
    tags = ["board"]  # noqa: RUF012

    @get("/", guards=[roles(*READERS)])
    async def board(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """`?day=YYYY-MM-DD` (today), `?advisor=ID` or `?technician=ID`, `?wall=1`."""
        seen = board_events.broker.version  # before counting: a later change reloads
        query = _query(request)
        now = utcnow()
        user = request.scope["user"]
        wall = query["wall"] == "1"
        try:
            chosen = await view.choose(db_session, user, query, settings.tz, now)
        except InvalidInput as exc:
            # The pickers again with what was typed and the field marked; nothing counted.
            refusal: dict[str, Any] = {
                "refusal": Refusal("/board", query, exc.field, exc.message),
                "chosen": None, "wall": wall, "query": query,
                "advisors": await view.people(db_session, Role.ADVISOR),
                "technicians": await view.people(db_session, Role.TECHNICIAN),
            }  # fmt: skip
            return render(request, "board/index.html", refusal, status_code=422)
        shop = await _shop(db_session)
        may_choose = chosen.may_choose
        before, after = view.neighbours(chosen.day)
        context: dict[str, Any] = {
            "chosen": chosen,
            "tiles": await view.tiles(db_session, chosen, shop, now),
            "wall": wall,
            "query": query,
            "seen": seen,
            "live": user.has_any_role(*LIVE),
            "updated": now,
            "advisors": await view.people(db_session, Role.ADVISOR) if may_choose else [],
            "technicians": await view.people(db_session, Role.TECHNICIAN) if may_choose else [],
            "self_url": _here(chosen, wall="1" if wall else ""),
            "wall_url": _here(chosen, wall="1"),
            "before_url": _here(chosen, day=before.isoformat(), wall="1" if wall else ""),
            "after_url": _here(chosen, day=after.isoformat(), wall="1" if wall else ""),
            "drill_query": _here(chosen).removeprefix("/board"),
        }
        return render(request, "board/index.html", context, fragment="board/_board.html")

    @get("/drill/{code:str}", guards=[roles(*READERS)])
    async def drill(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        code: FromPath[str],
    ) -> Template:
        """The vehicles behind one figure, for the same day and person as the board."""
        if code not in figures.CODES:
            raise NotFoundException(_("There is no such figure on the board."))
        now = utcnow()
        chosen = await view.choose(db_session, request.scope["user"], _query(request),
                                   settings.tz, now)  # fmt: skip
        shop = await _shop(db_session)
        figure = (await figures.compute(db_session, chosen.scope, shop, now))[code]
        fmt = Formatter(settings.timezone, settings.currency)
        context = {
            "chosen": chosen,
            "figure": figure,
            "name": labels.names(shop.greeting_minutes)[code],
            "rows": await drill.rows(db_session, figure, shop, fmt),
            "back_url": _here(chosen),
        }
        return render(request, "board/drill.html", context, fragment="board/_drill.html")

    @get("/targets", guards=[roles(*SETTERS)])
    async def targets_form(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """`?month=YYYY-MM` (this month), or `?month=` blank… the standing targets."""
        raw = request.query_params.get("month")
        month = utcnow().astimezone(settings.tz).strftime("%Y-%m") if raw is None else raw
        try:
            context = await _targets_context(db_session, month)
        except InvalidInput as exc:
            context = await _targets_context(db_session, "")
            context["refusal"] = Refusal("/board/targets", {"month": month}, exc.field,
                                         exc.message)  # fmt: skip
            return render(request, "board/targets.html", context, status_code=422)
        return render(request, "board/targets.html", context)

    @post("/targets", guards=[roles(*SETTERS)])
    async def save_targets(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
    ) -> Template | Redirect | ClientRedirect:
        form = await form_data(request)
        month = str(form.get("month", ""))
        values = {code: str(form[code]) for code in figures.CODES if code in form}
        try:
            await targets.save(db_session, month, values, request.scope["user"])
        except InvalidInput as exc:
            context = await _targets_context(db_session, month if exc.field != "month" else "")
            return refused(request, "board/targets.html", context, exc, form)
        return go(request, f"/board/targets?month={month.strip()}&saved=1")


async def _targets_context(db: AsyncSession, month: str) -> dict[str, Any]:
    shop = await dealership.current(db)
    own = await targets.own(db, month)
    standing = await targets.for_month(db, "") if month else dict(targets.DEFAULTS)
    return {
        "month": month.strip(),
        "codes": figures.CODES,
        "names": labels.names(shop.greeting_minutes if shop else 5),
        "own": own,
        "standing": standing,
        "lower": figures.LOWER_IS_BETTER,
        "units": figures.UNITS,
        "unit_signs": labels.units(),
    }
