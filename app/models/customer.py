from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin

if TYPE_CHECKING:
    from app.models.vehicle import Vehicle


class Customer(IdMixin, CreatedMixin, Base):
    __tablename__ = "customer"

    name: Mapped[str] = mapped_column(String(120), index=True)
    phone: Mapped[str] = mapped_column(String(40), index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # Opted out of service reminders (honoured by every list and send), and why.
    reminders_opt_out_at: Mapped[datetime | None]
    reminders_opt_out_reason: Mapped[str] = mapped_column(Text, default="")

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer", lazy="selectin")
