"""Service reminders (客户关怀): what was sent to whom and what the customer answered.

Who is due is computed from the records (deliveries' next service, odometer readings,
the vehicle's inspection and insurance dates); only the contacts are stored.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin, utcnow


class ReminderKind(enum.StrEnum):
    SERVICE = "service"  # 保养
    INSPECTION = "inspection"  # 年检
    INSURANCE = "insurance"  # 保险到期


class ReminderAction(enum.StrEnum):
    SENT = "sent"  # an SMS or e-mail through the outbox
    BOOKED = "booked"  # an appointment made from the list
    DONE_ELSEWHERE = "done_elsewhere"
    SOLD = "sold"  # the customer sold the car: no more reminders for it
    NOT_NOW = "not_now"  # snoozed until `snooze_until`
    OPT_OUT = "opt_out"  # no more reminders for this customer, with a reason


class ReminderContact(IdMixin, CreatedMixin, Base):
    __tablename__ = "reminder_contact"

    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # ReminderKind
    # The due date (projected for service) the contact was about.
    due_on: Mapped[date | None]
    action: Mapped[str] = mapped_column(String(16))  # ReminderAction
    channel: Mapped[str] = mapped_column(String(8), default="")  # "sms" | "email" when sent
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    snooze_until: Mapped[date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
