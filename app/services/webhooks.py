"""Outgoing webhooks for the dealer management system, through an outbox.

`enqueue` writes the event in the caller's transaction, so an event exists
exactly when the change it reports was committed; delivery happens later.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import WebhookEvent, WorkOrder
from app.models.base import utcnow


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
