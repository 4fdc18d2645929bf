from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin, utcnow

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


class AppointmentChannel(enum.StrEnum):
    """How the booking reached the dealership."""

    PHONE = "phone"  # the customer called
    DESK = "desk"  # at the front desk
    REMINDER = "reminder"  # from the service-reminder list (an active booking)
    API = "api"  # the dealer system, POST /api/v1/appointments
    RETURN = "return"  # a return visit booked from an order's declined work


class AppointmentChangeKind(enum.StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    EDITED = "edited"  # jobs, notes or what to bring
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    ARRIVED = "arrived"
    CHECKED_IN = "checked_in"
    CONFIRMATION_SENT = "confirmation_sent"
    REMINDER_SENT = "reminder_sent"


class AppointmentJobSource(enum.StrEnum):
    MENU = "menu"  # a menu package (保养菜单) due at the projected mileage
    CONCERN = "concern"  # the customer's words, through the 5W2H chips
    DECLINED = "declined"  # work declined at the last visit, offered again
    MANUAL = "manual"  # catalogue items the advisor chose


# What the customer is asked to bring (预约时提醒带齐): keys of `Appointment.bring`.
BRING_ITEMS = ("service_book", "key", "wheel_lock_key")


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
    channel: Mapped[str] = mapped_column(String(16), default=AppointmentChannel.PHONE.value)
    # Bumped by every change; a form or API call carrying an older one is refused (stale).
    version: Mapped[int] = mapped_column(default=1)
    # "<advisor id>@<slot start, UTC, YYYYMMDDTHHMM>" while the booking holds its slot
    # (booked or arrived), NULL once cancelled, no-show or moved off it: the unique index
    # lets exactly one of two tablets booking the last slot at once win, on both databases.
    slot_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The booking's share of the workshop's day (sold hours) and its rough price.
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    estimate_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    # Comma-separated BRING_ITEMS keys.
    bring: Mapped[str] = mapped_column(String(200), default="")
    odometer_km: Mapped[int | None]  # what the customer said on the phone
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The dealer system's own id for the booking (API), so a retried POST books once.
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    no_show_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]  # the confirmation went to the outbox
    reminded_at: Mapped[datetime | None]  # the day-before reminder went to the outbox

    customer: Mapped[Customer] = relationship(lazy="joined")
    vehicle: Mapped[Vehicle] = relationship(lazy="joined")
    advisor: Mapped[StaffUser | None] = relationship(lazy="joined", foreign_keys=[advisor_id])
    jobs: Mapped[list[AppointmentJob]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="AppointmentJob.position",
        back_populates="appointment",
    )


class AppointmentJob(IdMixin, Base):
    """One piece of requested work on a booking; it becomes a job on the estimate when the
    car is checked in (menu packages and catalogue lines priced then, at that day's prices)."""

    __tablename__ = "appointment_job"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(16), default=AppointmentJobSource.MANUAL.value)
    title: Mapped[str] = mapped_column(Text)
    menu_package_id: Mapped[int | None] = mapped_column(ForeignKey("menu_package.id"))
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id"))
    # For a concern: the customer's words and the 5W2H chips picked (JSON text).
    customer_words: Mapped[str] = mapped_column(Text, default="")
    # Rough figures at booking time, from the catalogue.
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))

    appointment: Mapped[Appointment] = relationship(back_populates="jobs")
    lines: Mapped[list[AppointmentLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AppointmentLine.id"
    )


class AppointmentLine(IdMixin, Base):
    """A catalogue labour operation or part booked on a job (not for menu packages, whose
    items come from the package)."""

    __tablename__ = "appointment_line"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_job.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # LineKind: "labour" | "part"
    labour_operation_id: Mapped[int | None] = mapped_column(ForeignKey("labour_operation.id"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("1"))


class AppointmentChange(IdMixin, Base):
    """The booking's history: made, moved, edited, cancelled, no-show, arrived, messages."""

    __tablename__ = "appointment_change"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # AppointmentChangeKind
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Who, when not a staff member: the API client's name, or "system" (reminders).
    by_label: Mapped[str] = mapped_column(String(80), default="")
    from_at: Mapped[datetime | None]
    to_at: Mapped[datetime | None]
    from_advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    to_advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
