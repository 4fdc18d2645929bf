"""One pooled connection per request: 200 signed-in requests at once, on routes that touch the
database twice (the sign-in lookup, then the handler's own connection), all complete.

Before the fix, the sign-in middleware's lookup held its connection for the whole request,
so 15 such requests (the pool's 5 + 10 overflow) held every connection and each waited for a
second one: the rest timed out after 30 s. Litestar's test client runs one request at a time,
so this drives the app in this event loop through httpx's ASGI transport instead."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from litestar import get
from litestar.datastructures import State
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_engine, write_intent
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


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_readers_never_wait_behind_writers_queued_for_their_turn(settings) -> None:
    """On SQLite, writers take turns (app.db.WriteTurns) holding a pooled connection while
    they wait. With the pool's usual ceiling (5 + 10) and 40 writers queued, readers found
    no connection left and failed after the pool's timeout (seen at 200 tablets: 503s).
    The SQLite pool has no ceiling, so every reader gets a connection at once."""
    engine = create_engine(settings.database_url, pool_timeout=2)
    sessions = async_sessionmaker(engine)
    inside = {"now": 0, "most": 0}

    async def writer(n: int) -> None:
        intent = write_intent.set(True)
        try:
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this one's turn
                inside["now"] += 1
                inside["most"] = max(inside["most"], inside["now"])
                await asyncio.sleep(0.1)  # slow work while holding the write lock
                inside["now"] -= 1
        finally:
            write_intent.reset(intent)

    async def reader() -> int:
        async with sessions() as session:
            return int(await session.scalar(text("SELECT 1")) or 0)

    try:
        writers = [asyncio.create_task(writer(n)) for n in range(40)]
        await asyncio.sleep(0.3)  # the writers are queued, each holding a connection
        started = asyncio.get_running_loop().time()
        assert await asyncio.gather(*(reader() for _ in range(40))) == [1] * 40
        waited = asyncio.get_running_loop().time() - started
        await asyncio.gather(*writers)
    finally:
        await engine.dispose()
    assert inside["most"] == 1, "writers overlapped: the turns were not taken"
    assert waited < 2, f"readers waited {waited:.1f} s for a connection"
