"""The live workshop board: a change is announced to every open board, after commit.

Services call `changed(session)`; only a committed transaction announces it, so
a refused or rolled-back action never makes a board reload. The fan-out is in
process: one small queue per open event stream. (Several app processes would
relay through PostgreSQL LISTEN/NOTIFY; the embedded default runs one.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_FLAG = "workshop_board_changed"


class Broker:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[int | None]] = set()
        self.sequence = 0

    @property
    def listeners(self) -> int:
        return len(self._queues)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[int | None]]:
        # One slot: a board behind by several changes reloads once, not once per change.
        queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def publish(self) -> int:
        self.sequence += 1
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(self.sequence)
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


def _announce(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        broker.publish()


def _forget(session: Session) -> None:
    session.info.pop(_FLAG, None)


def install() -> None:
    """Hook every ORM session: a commit announces, a rollback forgets (app factory)."""
    if not event.contains(Session, "after_commit", _announce):
        event.listen(Session, "after_commit", _announce)
        event.listen(Session, "after_rollback", _forget)
