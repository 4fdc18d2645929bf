"""One pooled connection per request: 200 signed-in requests at once, on routes that touch the
database twice (the sign-in lookup, then the handler's own connection), all complete.

Before the fix, the sign-in middleware's lookup held its connection for the whole request,
so 15 such requests (the pool's 5 + 10 overflow) held every connection and each waited for a
second one: the rest timed out after 30 s. Litestar's test client runs one request at a time,
so this drives the app in this event loop through httpx's ASGI transport instead."""

from __future__ import annotations

import asyncio

import httpx
from litestar import get
from litestar.datastructures import State
from sqlalchemy import event, text

from app.models import Role
from tests.conftest import PASSWORDS, USERNAMES, csrf_from, html

ROUTES = ("/test/own-connection", "/lane", "/workshop", "/final-check")


@get("/test/own-connection")
async def own_connection(state: State) -> str:
    """As a handler that opens its own connection (a report, a health probe) after sign-in."""
    async with state.db_config.get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))
    return "ok"


async def test_two_hundred_signed_in_requests_at_once_all_complete(app, users) -> None:
    app.register(own_connection)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client,
    ):
        role = Role.SERVICE_MANAGER
        form = {"username": USERNAMES[role], "password": PASSWORDS[role]}
        form["_csrf_token"] = csrf_from(html(await client.get("/sign-in")))
        assert (await client.post("/sign-in", data=form)).status_code == 303

        pool = app.state.db_config.get_engine().sync_engine.pool
        held = {"now": 0, "most": 0}

        def checkout(*_: object) -> None:
            held["now"] += 1
            held["most"] = max(held["most"], held["now"])

        def checkin(*_: object) -> None:
            held["now"] -= 1

        event.listen(pool, "checkout", checkout)
        event.listen(pool, "checkin", checkin)
        paths = [ROUTES[i % len(ROUTES)] for i in range(200)]
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get(path) for path in paths)), timeout=120
        )
    failed = [
        (p, r.status_code) for p, r in zip(paths, responses, strict=True) if r.status_code != 200
    ]
    assert failed == []
    assert held["most"] > 1, "the requests did not overlap, so this proved nothing"
