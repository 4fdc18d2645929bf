"""Delivery (交车): handing the car back, and damage found that the check-in does not show."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class Delivery(IdMixin, CreatedMixin, Base):
    """Handing the car back (交车) against the check-in record."""

    __tablename__ = "delivery"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), unique=True
    )
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    advice: Mapped[str] = mapped_column(Text, default="")
    next_service_on: Mapped[date | None]
    next_service_km: Mapped[int | None]
    old_parts_shown: Mapped[bool] = mapped_column(default=False)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    delivered_at: Mapped[datetime | None]


class NewDamage(IdMixin, CreatedMixin, Base):
    """Damage found at delivery that the check-in record does not show:
    photographed and escalated to the service manager, not argued at the car."""

    __tablename__ = "new_damage"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
