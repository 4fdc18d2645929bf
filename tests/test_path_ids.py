"""An id in a path that no table can hold is a page that does not exist, never a crash:
every route with an integer in its path, on both databases."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import func, select

from app.i18n import _
from app.models import AuditEvent, Role, StaffRole, StaffUser
from app.passwords import hash_password
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import priced_estimate

pytestmark = pytest.mark.http_layer

# A valid value for each text parameter, so the request reaches the id.
TEXT_PARAMS = {
    "kind": "labour", "step": "greeting", "size": "thumb", "token": "x" * 43,
    "question": "car_clean",
}  # fmt: skip
ACTIONS = {"/my-jobs/": "start"}  # everywhere else "remove-line" takes an id from the form
HUGE = [2**63, 10**30, 2**31]  # SQLite's limit, far beyond it, PostgreSQL's INTEGER


def int_routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if ":int}" not in route.path:
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                found += [(method, route.path) for method in sorted(handler.http_methods)]
    return found


def fill(path: str, number: int) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if kind == "int":
            return str(number)
        if name == "action":
            return next((a for p, a in ACTIONS.items() if path.startswith(p)), "remove-line")
        return TEXT_PARAMS[name]

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


@pytest.fixture(name="everyone")
async def fx_everyone(session_maker) -> None:
    """One user with every role, so that no role guard answers before the id is read."""
    async with session_maker() as session:
        session.add(
            StaffUser(
                username="everyone", display_name="Everyone", password_hash=hash_password("pw"),
                role_rows=[StaffRole(role=role) for role in Role],
            )
        )  # fmt: skip
        await session.commit()


async def test_every_route_answers_404_for_an_id_no_table_can_hold(
    app: Litestar, client, db, everyone
) -> None:
    routes = int_routes(app)
    assert len(routes) >= 57
    page = html(await client.get("/sign-in"))
    token = str(page.select_one("input[name=_csrf_token]")["value"])
    signed = await client.post(
        "/sign-in", data={"username": "everyone", "password": "pw", "_csrf_token": token}
    )
    assert signed.status_code == 303
    token = await csrf_token(client)
    events = await db.scalar(select(func.count(AuditEvent.id)))
    answers = {}
    for number in HUGE:
        for method, path in routes:
            url = fill(path, number)
            response = await client.request(
                method, url, data={"line": "1", "version": "1"},
                headers={"x-csrftoken": token, "accept": "text/html"},
            )  # fmt: skip
            said = _("This page does not exist.") in response.text
            answers[f"{method} {url}"] = (
                response.status_code if said else f"{response.status_code}, not the 404 page"
            )
    assert {k: v for k, v in answers.items() if v != 404} == {}
    assert await db.scalar(select(func.count(AuditEvent.id))) == events


async def test_an_id_in_a_form_that_no_table_can_hold_is_refused(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    for number in (2**63, 10**30):
        response = await client.post(
            f"/work-orders/{order_id}/estimate/remove-line",
            data={"line": str(number)},
            headers={"x-csrftoken": token, "HX-Request": "true"},
        )
        assert response.status_code == 422
