"""Engine creation: SQLite treated as a production database, PostgreSQL one setting away."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_POOL_KEPT = 10
# How long a writer waits for its turn in this process before it goes ahead anyway and
# leaves the waiting to SQLite's busy timeout (a turn never awaited is never a deadlock).
WRITE_TURN_TIMEOUT_S = 30.0
_TURN = "walkaround_write_turn"


# Set per request by the web layer: a POST/PUT/PATCH/DELETE intends to write.
write_intent: ContextVar[bool] = ContextVar("walkaround_write_intent", default=False)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level so the "begin" listener below chooses
    # how each transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WriteTurns:
    """SQLite's writers, one at a time and first come first served, in this process.

    Writers take SQLite's write lock up front (BEGIN IMMEDIATE); a deferred transaction
    that later upgrades to a write fails at once with "database is locked". Readers stay
    deferred and never block writers under WAL. Left to SQLite, writers that find the
    lock taken sleep and retry (busy_timeout), in no order: under load from a few dozen
    tablets some lost every retry for 5 s and failed with a 500 while others went ahead.
    Here each writer first awaits its turn on an asyncio lock (without blocking the event
    loop), taken at BEGIN and given back at COMMIT or ROLLBACK, or when the connection
    goes back to the pool; SQLite's busy timeout stays for other processes (the CLI)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    def begin(self, conn: Connection) -> None:
        if not write_intent.get():
            conn.exec_driver_sql("BEGIN")
            return
        if in_greenlet():  # the async engine: wait for the turn here, never on the loop
            try:
                await_only(asyncio.wait_for(self.lock.acquire(), WRITE_TURN_TIMEOUT_S))
                conn.info[_TURN] = True
            except TimeoutError:
                pass  # go ahead; SQLite's busy timeout decides
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def end(self, conn: Connection) -> None:
        self.give_back(conn.info)

    def give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(_TURN, False):
            self.lock.release()

    def listen(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "begin", self.begin)
        event.listen(sync, "commit", self.end)
        event.listen(sync, "rollback", self.end)
        # A connection closed or invalidated mid-transaction still gives its turn back.
        event.listen(sync.pool, "checkin", lambda _dbapi, record: self.give_back(record.info))


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        on_disk = bool(url.database) and url.database != ":memory:"
        if on_disk:
            Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        # No ceiling on connections (a file handle and a thread each; ten are kept): writers
        # wait for their turn holding a connection, and with a ceiling, enough of them
        # queued left none for readers, which then failed after the pool's 30 s (200
        # tablets at once). Without one, a reader never waits behind queued writers.
        if on_disk:
            kwargs = {"pool_size": SQLITE_POOL_KEPT, "max_overflow": -1, **kwargs}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        WriteTurns().listen(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


async def release_write_lock(session: AsyncSession) -> None:
    """Commit now, before slow work that needs no database (checking a password, processing
    a photo). A write request's first statement takes SQLite's one write lock (BEGIN
    IMMEDIATE, above) until the request ends; held through tens or hundreds of
    milliseconds of CPU, it makes every other tablet's save wait, and under load some wait
    past the busy timeout and fail. What was read stays loaded (sessions do not expire on
    commit); the next statement opens a new transaction. What was checked before may have
    changed meanwhile: check again what must hold when writing."""
    await session.commit()
