"""The follow-up call (回访) after delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class FollowUpTask(IdMixin, CreatedMixin, Base):
    """The follow-up call (回访) due within the dealership's deadline after delivery."""

    __tablename__ = "follow_up_task"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), unique=True
    )
    due_at: Mapped[datetime] = mapped_column(index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The customer's answer at check-in: when to call, and whether at all.
    call_allowed: Mapped[bool] = mapped_column(default=True)
    preferred_when: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
