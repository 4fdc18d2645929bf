"""What the app does as it starts, before it serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from app.services import board_events
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
