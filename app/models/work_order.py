from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin, utcnow

if TYPE_CHECKING:
    from app.models.customer import Customer
    from app.models.staff import StaffUser
    from app.models.vehicle import Vehicle


class WorkOrderStatus(enum.StrEnum):
    CHECK_IN = "check_in"
    ESTIMATE = "estimate"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    QC = "qc"
    READY = "ready"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Statuses of a car that is on the dealership's site.
ON_SITE_STATUSES = (
    WorkOrderStatus.CHECK_IN,
    WorkOrderStatus.ESTIMATE,
    WorkOrderStatus.SIGNED,
    WorkOrderStatus.IN_PROGRESS,
    WorkOrderStatus.QC,
    WorkOrderStatus.READY,
)


class WorkOrder(IdMixin, CreatedMixin, Base):
    __tablename__ = "work_order"
    # The workshop board shows the cars delivered today: an index on the status alone
    # would read every order ever delivered.
    __table_args__ = (Index("ix_work_order_status_delivered_at", "status", "delivered_at"),)

    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[WorkOrderStatus] = mapped_column(
        Enum(
            WorkOrderStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=WorkOrderStatus.CHECK_IN,
        index=True,
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    # The API pages by it (changed since a time, oldest first).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # The board (看板) counts a day's signatures and deliveries by these.
    signed_at: Mapped[datetime | None] = mapped_column(index=True)
    promised_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    # Estimate: one discount on the whole order, within the giver's role limit.
    discount_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    discount_reason: Mapped[str] = mapped_column(Text, default="")
    discount_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The customer's consents, asked in customer mode and signed with the order.
    consent_road_test: Mapped[bool | None]
    consent_keep_old_parts: Mapped[bool | None]
    consent_follow_up: Mapped[bool | None]
    # Customer mode: the tablet is handed over; staff screens need a password.
    customer_mode_since: Mapped[datetime | None]
    # Workshop: the customer waits on site (dispatched first), and failed final checks.
    customer_waiting: Mapped[bool] = mapped_column(default=False)
    rework_count: Mapped[int] = mapped_column(default=0)
    # Optimistic locking: two tablets editing one order never overwrite silently.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    customer: Mapped[Customer] = relationship(lazy="joined")
    vehicle: Mapped[Vehicle] = relationship(lazy="joined")
    advisor: Mapped[StaffUser | None] = relationship(lazy="joined", foreign_keys=[advisor_id])
