"""What the app does as it starts, before it serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_engine, write_intent
from app.models.base import utcnow
from app.services import board_events
from app.services.appointments import messages as appointment_messages
from app.services.storage import local
from app.settings import Settings

log = logging.getLogger("walkaround")


@asynccontextmanager
async def sweep_photo_store(app: Litestar) -> AsyncIterator[None]:
    """A server killed mid-upload leaves a temporary file; the next start removes it, beside
    serving rather than before it (a year of photos is a long walk, and nothing waits on it)."""
    settings: Settings = app.state.settings
    if settings.storage != "local":  # an object store never shows half an object
        yield
        return

    async def sweep() -> None:
        removed = await asyncio.to_thread(local.sweep_temporary, settings.photos)
        if removed:
            log.info("removed %s temporary photo files left by a stopped server", removed)

    task = asyncio.create_task(sweep(), name="photo-store-sweep")
    try:
        yield
    finally:
        task.cancel()


@asynccontextmanager
async def relay_board_events(app: Litestar) -> AsyncIterator[None]:
    """Several processes on one PostgreSQL: boards hear every process's changes."""
    settings: Settings = app.state.settings
    if settings.board_events != "postgres":
        yield
        return
    relay = board_events.PostgresRelay(settings.database_url)
    task = asyncio.create_task(relay.run(), name="board-events-relay")
    # Serve once listening, so a change made right after start-up is heard; a database
    # that is away does not stop the start (the relay keeps trying).
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(relay.connected.wait(), 10)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


REMIND_EVERY_SECONDS = 300.0


async def _remind_forever(settings: Settings, every: float) -> None:
    """The day-before appointment reminders, every few minutes: each run sends what is due
    and not yet sent (once per booking, however many processes run this)."""
    engine = create_engine(settings.database_url)
    session_maker = async_sessionmaker(engine, expire_on_commit=False)
    intent = write_intent.set(True)  # it writes: on SQLite, wait for the writer's turn
    try:
        while True:
            try:
                async with session_maker() as session:
                    sent = await appointment_messages.send_day_before(session, settings, utcnow())
                if sent:
                    log.info("sent %s day-before appointment reminders", sent)
            except Exception:
                log.exception("day-before appointment reminders failed; trying again later")
            await asyncio.sleep(every)
    finally:
        write_intent.reset(intent)
        await engine.dispose()


@asynccontextmanager
async def remind_appointments(app: Litestar) -> AsyncIterator[None]:
    """Send tomorrow's appointment reminders from the app itself (off under test; the
    `walkaround appointments remind` command does the same from cron)."""
    settings: Settings = app.state.settings
    if not settings.appointment_reminders:
        yield
        return
    task = asyncio.create_task(
        _remind_forever(settings, REMIND_EVERY_SECONDS), name="appointment-reminders"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
