from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin

if TYPE_CHECKING:
    from app.models.customer import Customer


class Vehicle(IdMixin, CreatedMixin, Base):
    __tablename__ = "vehicle"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vin: Mapped[str | None] = mapped_column(String(17), unique=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    make: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(60))
    year: Mapped[int | None]
    colour: Mapped[str] = mapped_column(String(40), default="")
    # Which health-check list applies (car, suv, ev: models.health_check.VehicleType).
    vehicle_type: Mapped[str] = mapped_column(String(16), default="car", server_default="car")
    last_odometer_km: Mapped[int | None]
    last_odometer_at: Mapped[datetime | None]
    # Reminders (客户关怀): the annual inspection (年检) and insurance expiry (保险到期)
    # where recorded, and when the owner told us the car was sold (no more reminders).
    inspection_due_on: Mapped[date | None]
    insurance_due_on: Mapped[date | None]
    sold_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="vehicles", lazy="joined")
