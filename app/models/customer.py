from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import String
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

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer", lazy="selectin")
