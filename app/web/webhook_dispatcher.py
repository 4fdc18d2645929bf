"""The webhook dispatcher runs beside the app, woken when a request's transaction commits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event

from app.services.outbound.webhooks import run_dispatcher

if TYPE_CHECKING:
    from litestar import Litestar

    from app.settings import Settings

_COMMITTED = "walkaround_committed"


@asynccontextmanager
async def dispatcher_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run the dispatcher while the app runs, when a webhook URL is set."""
    settings: Settings = app.state.settings
    if not settings.webhook_url:
        yield
        return
    loop = asyncio.get_running_loop()
    wake = app.state.webhook_wake = asyncio.Event()
    app_engine = app.state.db_config.get_engine().sync_engine

    # The "commit" event comes before the database has committed, so it only
    # marks the connection; the dispatcher is woken when the connection goes
    # back to the pool, committed. Thread-safe: requests may run on another loop.
    def on_commit(connection: Any) -> None:
        connection.info[_COMMITTED] = True

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_COMMITTED, False):
            loop.call_soon_threadsafe(wake.set)

    sa_event.listen(app_engine, "commit", on_commit)
    sa_event.listen(app_engine, "checkin", on_checkin)
    task = app.state.webhook_dispatcher = asyncio.create_task(
        run_dispatcher(app.state), name="webhook-dispatcher"
    )
    try:
        yield
    finally:
        sa_event.remove(app_engine, "commit", on_commit)
        sa_event.remove(app_engine, "checkin", on_checkin)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
