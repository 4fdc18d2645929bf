"""The live workshop board: a change is announced to every open board, after commit.

Services call `changed(session)`; only a committed transaction announces it, so
a refused or rolled-back action never makes a board reload. The fan-out to open
streams is in process: one small queue per stream.

One process (the embedded default) announces after its own commits. Several
processes on one PostgreSQL (WALKAROUND_BOARD_EVENTS=postgres) announce through
the database instead: the transaction itself sends `pg_notify`, which PostgreSQL
delivers on commit only and in commit order, and every process, the one that
made the change included, hears it on a LISTEN connection (`PostgresRelay`).
Each announcement carries a version token; a board page and its stream compare
tokens, so a stream opened on another process than the page still knows whether
it missed a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Iterator

import asyncpg
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_FLAG = "workshop_board_changed"
CHANNEL = "walkaround_board"
log = logging.getLogger("walkaround.board_events")


class Broker:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()
        self.sequence = 0  # announcements heard by this process
        self.version = "0"  # the last one's token: the same in every process

    @property
    def listeners(self) -> int:
        return len(self._queues)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[str | None]]:
        # One slot: a board behind by several changes reloads once, not once per change.
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def publish(self, version: str | None = None) -> int:
        self.sequence += 1
        self.version = version or str(self.sequence)
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(self.version)
        return self.sequence

    def close(self) -> None:
        """Ends every open stream (shutdown)."""
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(None)


broker = Broker()


def changed(session: AsyncSession | Session) -> None:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info[_FLAG] = True


async def on_change(session: AsyncSession, _event: object) -> None:
    """A domain event that moves a car on the boards (listener, see `app.wiring`)."""
    changed(session)


def _notify(session: Session) -> None:
    """Relayed: the announcement travels in the transaction, so it is sent exactly
    when the change commits (PostgreSQL drops it on rollback)."""
    if _relaying and session.info.get(_FLAG):
        session.execute(select(func.pg_notify(CHANNEL, _next_token())))


def _announce(session: Session) -> None:
    if session.info.pop(_FLAG, False) and not _relaying:
        broker.publish()


def _forget(session: Session) -> None:
    session.info.pop(_FLAG, None)


def install() -> None:
    """Hook every ORM session: a commit announces, a rollback forgets (app factory)."""
    if not event.contains(Session, "after_commit", _announce):
        event.listen(Session, "before_commit", _notify)
        event.listen(Session, "after_commit", _announce)
        event.listen(Session, "after_rollback", _forget)


# -- several processes: the relay through PostgreSQL -----------------------------

_relaying = False
_origin = f"{os.getpid()}-{secrets.token_hex(3)}"
_sent = 0


def _next_token() -> str:
    """Unique across processes; equal tokens mean the same last change."""
    global _sent  # noqa: PLW0603 - one counter per process
    _sent += 1
    return f"{_origin}-{_sent}"


class PostgresRelay:
    """Hears every process's announcements on one LISTEN connection and hands them to
    this process's streams; reconnects when the database goes away, and then makes
    every board reload, since announcements made meanwhile were not heard."""

    def __init__(self, database_url: str, retry_seconds: float = 1.0) -> None:
        self._dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._retry_seconds = retry_seconds
        self.connected = asyncio.Event()

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        broker.publish(str(payload))

    async def run(self) -> None:
        global _relaying  # noqa: PLW0603 - the app's lifespan turns relaying on and off
        _relaying = True
        first = True
        try:
            while True:
                try:
                    await self._listen(first)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("board events: LISTEN connection lost (%s); reconnecting", exc)
                first = False
                self.connected.clear()
                await asyncio.sleep(self._retry_seconds)
        finally:
            _relaying = False

    async def _listen(self, first: bool) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=10)
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self.connected.set()
            if not first:
                broker.publish(_next_token())  # changes made while deaf: reload every board
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), 10)
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=5)  # a silent cut shows here
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)
