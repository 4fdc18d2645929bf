"""Outboxes: rows written in the same transaction as the change they report,
delivered afterwards, so no event or message is lost when a receiver is down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin, utcnow


class WebhookEvent(IdMixin, CreatedMixin, Base):
    """A status change for the dealer management system, sent HMAC-signed and
    retried with back-off until the receiver answers 2xx."""

    __tablename__ = "webhook_event"

    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    last_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class OutboundMessage(IdMixin, CreatedMixin, Base):
    """An e-mail or SMS to a customer. The default SMS adapter only writes
    here; staff see the outbox and can read or send the text themselves."""

    __tablename__ = "outbound_message"

    channel: Mapped[str] = mapped_column(String(8))  # "email" | "sms"
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sent|failed
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
