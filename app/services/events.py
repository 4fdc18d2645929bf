"""Domain events: what happened in one feature, announced to the features that act on it.

Signing a work order, answering added work and delivering the car each have
after-effects owned by another feature (the workshop opens tasks, the follow-up
call is scheduled, the dealer system hears of it). The feature that acts
registers a listener; the one where it happened only publishes, so it need not
import them. Listeners run at once, awaited in the order registered, with the
publisher's session: inside its transaction, so the after-effects commit or roll
back with the action itself.

Listeners are registered by `app.wiring.install()` (the app factory, the CLI, the
test fixtures), never by importing a module; publishing before that is a bug and
raises rather than losing the after-effects silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Job, Supplement, WorkOrder
from app.services.audit import Actor

E = TypeVar("E")
Listener = Callable[[AsyncSession, E], Awaitable[None]]


@dataclass(frozen=True)
class WorkOrderSigned:
    order: WorkOrder
    jobs: Sequence[Job]  # the order's jobs, declined ones included
    actor: Actor


@dataclass(frozen=True)
class SupplementDecided:
    order: WorkOrder
    supplement: Supplement
    jobs: Sequence[Job]  # the supplement's jobs
    approved: bool
    actor: Actor


@dataclass(frozen=True)
class CarDelivered:
    order: WorkOrder
    check_in: CheckIn
    actor: Actor
    now: datetime


class NotWired(RuntimeError):
    """An event was published before `app.wiring.install()` registered the listeners."""


_listeners: dict[type[Any], list[Listener[Any]]] = {}
_wired = False


def listen(kind: type[E], listener: Listener[E]) -> None:
    """Register `listener` for events of `kind`; registering it twice keeps one."""
    found = _listeners.setdefault(kind, [])
    if listener not in found:
        found.append(listener)


def mark_wired() -> None:
    global _wired  # noqa: PLW0603 - one registry per process, filled once at start-up
    _wired = True


async def publish(session: AsyncSession, event: object) -> None:
    if not _wired:
        raise NotWired(
            f"{type(event).__name__} published before app.wiring.install() registered "
            "the listeners: its after-effects would be lost."
        )
    for listener in _listeners.get(type(event), ()):
        await listener(session, event)
