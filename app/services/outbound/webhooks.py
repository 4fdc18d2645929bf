"""Outgoing webhooks for the dealer management system, through an outbox.

`enqueue` writes the event in the caller's transaction, so an event exists
exactly when the change it reports was committed; delivery happens later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.db import create_engine, write_intent
from app.models import SupplementStatus, WebhookEvent, WorkOrder
from app.models.base import utcnow
from app.services import events

if TYPE_CHECKING:
    from litestar.datastructures import State

    from app.settings import Settings


def enqueue(
    session: AsyncSession, event_type: str, order: WorkOrder | None, data: dict[str, Any]
) -> WebhookEvent:
    now = utcnow()
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "type": event_type,
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    event = WebhookEvent(
        event_id=event_id,
        event_type=event_type,
        work_order_id=order.id if order else None,
        payload=payload,
        next_attempt_at=now,
    )
    session.add(event)
    return event


async def on_supplement_decided(session: AsyncSession, event: events.SupplementDecided) -> None:
    """The dealer system hears of the customer's answer to added work."""
    decision = SupplementStatus.APPROVED if event.approved else SupplementStatus.DECLINED
    enqueue(
        session,
        "work_order.supplement_decided",
        event.order,
        {
            "work_order_id": event.order.id,
            "number": event.order.number,
            "supplement": event.supplement.number,
            "decision": decision.value,
        },
    )


# -- delivery ----------------------------------------------------------------

log = logging.getLogger("walkaround.webhooks")

EVENT_HEADER = "X-Walkaround-Event"
DELIVERY_HEADER = "X-Walkaround-Delivery"
TIMESTAMP_HEADER = "X-Walkaround-Timestamp"
SIGNATURE_HEADER = "X-Walkaround-Signature"
# A claimed event is someone's to send for this long; a worker that dies
# mid-send gives it back when the lease runs out.
LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
SEND_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 5.0
MAX_PER_RUN = 500  # a long backlog is worked off over several runs, never in one blocking pass


def sign(secret: str, timestamp: int | str, body: str) -> str:
    """HMAC-SHA256 (hex) over "<timestamp>.<body>"; the receiver recomputes it."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def body_of(event: WebhookEvent) -> str:
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def headers_for(event: WebhookEvent, body: str, secret: str, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event.event_type,
        DELIVERY_HEADER: event.event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"sha256={sign(secret, timestamp, body)}",
    }


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s ... at most an hour, plus up to 10 % jitter so that
    events that failed together do not all come back at the same second."""
    delay = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return delay * (1 + _jitter.uniform(0, 0.1))


_jitter = random.SystemRandom()


def _due(now: datetime) -> Select[Any]:
    """Undelivered events whose time has come, oldest first, holding back any
    event of a work order that still has an earlier event undelivered."""
    earlier = aliased(WebhookEvent)
    return (
        select(WebhookEvent)
        .where(
            WebhookEvent.delivered_at.is_(None),
            WebhookEvent.next_attempt_at <= now,
            ~exists().where(
                earlier.work_order_id == WebhookEvent.work_order_id,
                earlier.delivered_at.is_(None),
                earlier.id < WebhookEvent.id,
            ),
        )
        .order_by(WebhookEvent.id)
        .limit(1)
    )


@asynccontextmanager
async def _writing(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    # On SQLite a writer takes the lock up front (see app.db); PostgreSQL ignores this.
    intent = write_intent.set(True)
    try:
        async with session_maker() as session, session.begin():
            yield session
    finally:
        write_intent.reset(intent)


async def _claim(
    session_maker: async_sessionmaker[AsyncSession], now: datetime
) -> WebhookEvent | None:
    """The next due event, leased to this worker; None when nothing is due.

    Every app process runs a dispatcher. On PostgreSQL the claim locks the event's
    row and skips rows another worker holds (`FOR UPDATE SKIP LOCKED`), so two never
    claim one event and neither waits on the other; on SQLite the writer's turn
    (app.db) does the same. An event held back behind its order's earlier one stays
    back even while that one is locked: the look for earlier events does not skip."""
    async with session_maker() as session:
        if await session.scalar(_due(now)) is None:
            return None  # the usual case: no write, no lock
    async with _writing(session_maker) as session:
        event: WebhookEvent | None = await session.scalar(
            _due(now).with_for_update(skip_locked=True, of=WebhookEvent)
        )
        if event is None:
            return None  # every due event is being sent by another worker
        session.expunge(event)  # as read: the lease below is the database's business
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event.id)
            .values(next_attempt_at=now + LEASE)
        )
    return event


async def _send(
    client: httpx.AsyncClient, url: str, secret: str, event: WebhookEvent, now: datetime
) -> tuple[int | None, str]:
    """(status, error): error is empty exactly when the receiver answered 2xx."""
    body = body_of(event)
    try:
        response = await client.post(
            url,
            content=body.encode(),
            headers=headers_for(event, body, secret, now),
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if response.is_success:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


async def deliver_due(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    now: datetime | None = None,
) -> int:
    """Send every event that is due, one at a time in order; returns how many
    the receiver accepted. Failures are retried later with back-off."""
    if not settings.webhook_url:
        return 0
    delivered = 0
    for _ in range(MAX_PER_RUN):
        at = now or utcnow()
        event = await _claim(session_maker, at)
        if event is None:
            break
        status, error = await _send(
            client, settings.webhook_url, settings.webhook_secret, event, at
        )
        finished = now or utcnow()
        values: dict[str, Any] = {
            "attempts": WebhookEvent.attempts + 1,
            "last_status": status,
            "last_error": error,
        }
        if error:
            values["next_attempt_at"] = finished + backoff(event.attempts + 1)
            log.warning(
                "webhook %s not delivered (attempt %d): %s",
                event.event_id, event.attempts + 1, error,
            )  # fmt: skip
        else:
            values["delivered_at"] = finished
            delivered += 1
        async with _writing(session_maker) as session:
            await session.execute(
                update(WebhookEvent).where(WebhookEvent.id == event.id).values(**values)
            )
    return delivered


@dataclass(frozen=True)
class OutboxStatus:
    pending: int  # not delivered yet
    failing: int  # of those, the ones whose last attempt failed
    delivered: int
    oldest_pending_at: datetime | None


async def outbox_status(session: AsyncSession) -> OutboxStatus:
    undelivered = WebhookEvent.delivered_at.is_(None)
    row = (
        await session.execute(
            select(
                func.count(WebhookEvent.id).filter(undelivered),
                func.count(WebhookEvent.id).filter(undelivered, WebhookEvent.attempts > 0),
                func.count(WebhookEvent.id).filter(WebhookEvent.delivered_at.is_not(None)),
                func.min(WebhookEvent.created_at).filter(undelivered),
            )
        )
    ).one()
    return OutboxStatus(pending=row[0], failing=row[1], delivered=row[2], oldest_pending_at=row[3])


# -- the background dispatcher ------------------------------------------------


async def run_dispatcher(app_state: State, poll_seconds: float = POLL_SECONDS) -> None:
    """Deliver due events until cancelled: every few seconds, and at once when
    `app_state.webhook_wake` is set (after a commit, see app.web.webhook_dispatcher)."""
    settings: Settings = app_state.settings
    wake: asyncio.Event = app_state.webhook_wake
    if not settings.webhook_secret:
        log.warning("WALKAROUND_WEBHOOK_SECRET is empty: receivers cannot verify webhooks")
    # Its own engine: the dispatcher's commits must not wake itself, and it may
    # run on another event loop than the requests (as under the test client).
    engine = create_engine(settings.database_url)
    session_maker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS) as client:
            while True:
                wake.clear()
                try:
                    await deliver_due(session_maker, settings, client)
                except Exception:
                    log.exception("webhook delivery run failed; retrying shortly")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll_seconds)
    finally:
        await engine.dispose()
