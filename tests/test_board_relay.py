"""Board events across processes through PostgreSQL LISTEN/NOTIFY (WALKAROUND_BOARD_EVENTS=
postgres): a committed change is heard, a rolled-back one is not, another process's change
is heard with its token, and a lost LISTEN connection comes back and reloads the boards.
The whole path through two processes and nginx is in tests/test_scale_out.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.main import create_app
from app.services import board_events
from app.services.board_events import CHANNEL, broker
from app.settings import Settings, SettingsError

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _dsn(settings: Settings) -> str:
    url = make_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture(name="relay")
async def fx_relay(settings: Settings) -> AsyncIterator[board_events.PostgresRelay]:
    relay = board_events.PostgresRelay(settings.database_url, retry_seconds=0.1)
    task = asyncio.create_task(relay.run())
    await asyncio.wait_for(relay.connected.wait(), 5)
    yield relay
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not board_events._relaying, "a stopped relay leaves the process announcing itself"


async def _heard_after(sequence: int, seconds: float = 5) -> str:
    for _ in range(int(seconds / 0.02)):
        if broker.sequence > sequence:
            return broker.version
        await asyncio.sleep(0.02)
    raise AssertionError("no board event was heard")


async def _change(session_maker: async_sessionmaker[AsyncSession], commit: bool) -> None:
    async with session_maker() as session:
        board_events.changed(session)
        await session.execute(text("SELECT 1"))
        await (session.commit() if commit else session.rollback())


async def test_a_committed_change_is_heard_through_the_database_and_a_rolled_back_one_is_not(
    relay, session_maker
) -> None:
    before = broker.sequence
    await _change(session_maker, commit=False)
    await asyncio.sleep(0.3)
    assert broker.sequence == before, "a rolled-back change made the boards reload"

    await _change(session_maker, commit=True)
    version = await _heard_after(before)
    # Heard once (through the database), not also straight after the commit in process.
    await asyncio.sleep(0.3)
    assert broker.sequence == before + 1
    assert version.startswith(board_events._origin)


async def test_another_process_s_change_is_heard_with_its_token(relay, settings) -> None:
    with broker.subscribe() as queue:
        before = broker.sequence
        other = await asyncpg.connect(_dsn(settings))
        try:
            await other.execute("SELECT pg_notify($1, $2)", CHANNEL, "4242-abcdef-7")
        finally:
            await other.close()
        assert await _heard_after(before) == "4242-abcdef-7"
        assert await asyncio.wait_for(queue.get(), 1) == "4242-abcdef-7"


async def test_a_lost_listen_connection_comes_back_and_reloads_every_board(
    relay, settings, session_maker
) -> None:
    admin = await asyncpg.connect(_dsn(settings))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() "
            "AND query LIKE 'LISTEN%'"
        )
        assert killed >= 1
    finally:
        await admin.close()
    before = broker.sequence
    # Changes made while nobody listened are lost to the boards: they reload instead.
    await _heard_after(before)
    await asyncio.wait_for(relay.connected.wait(), 5)
    after_reconnect = broker.sequence
    await _change(session_maker, commit=True)
    await _heard_after(after_reconnect)


async def test_the_app_relays_when_set_to_and_names_itself(settings) -> None:
    relayed = replace(settings, board_events="postgres", instance="app-7")
    async with AsyncTestClient(app=create_app(relayed)) as client:
        assert board_events._relaying
        response = await client.get("/healthz")
        assert response.headers["x-walkaround-instance"] == "app-7"
    assert not board_events._relaying


async def test_one_process_says_nothing_about_itself(client) -> None:
    response = await client.get("/healthz")
    assert "x-walkaround-instance" not in response.headers
    assert not board_events._relaying


def test_relaying_needs_postgresql_and_a_known_kind(settings) -> None:
    with pytest.raises(SettingsError, match="PostgreSQL"):
        replace(settings, database_url="sqlite+aiosqlite:///x.db", board_events="postgres")
    with pytest.raises(SettingsError, match="process or postgres"):
        replace(settings, board_events="redis")
