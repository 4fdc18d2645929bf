from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin

if TYPE_CHECKING:
    from app.models.customer import Customer
    from app.models.staff import StaffUser
    from app.models.vehicle import Vehicle


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class AppointmentSource(enum.StrEnum):
    ACTIVE = "active"  # the advisor called a customer due for service
    PASSIVE = "passive"  # the customer called


class Appointment(IdMixin, CreatedMixin, Base):
    __tablename__ = "appointment"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    requested_work: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[AppointmentSource] = mapped_column(
        Enum(
            AppointmentSource,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=AppointmentSource.PASSIVE,
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        Enum(
            AppointmentStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=AppointmentStatus.BOOKED,
    )
    arrived_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(String(500), default="")

    customer: Mapped[Customer] = relationship(lazy="joined")
    vehicle: Mapped[Vehicle] = relationship(lazy="joined")
    advisor: Mapped[StaffUser | None] = relationship(lazy="joined")
