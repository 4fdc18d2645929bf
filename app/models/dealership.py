from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class Dealership(IdMixin, CreatedMixin, Base):
    """The business settings of the one dealership an install serves.

    Region, currency and timezone are install settings (environment); these
    are the numbers and identity the service manager maintains.
    """

    __tablename__ = "dealership"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    greeting_minutes: Mapped[int] = mapped_column(default=5)
    # The lane board: a booking this many minutes past its time without arrival is late,
    # and after the longer one a no-show.
    late_minutes: Mapped[int] = mapped_column(default=15)
    no_show_minutes: Mapped[int] = mapped_column(default=60)
    follow_up_days: Mapped[int] = mapped_column(default=3)
    labour_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0"))
    advisor_daily_capacity: Mapped[int] = mapped_column(default=15)
    # Workshop load, for the promised time: hours each technician can sell a day.
    workshop_opens: Mapped[str] = mapped_column(String(5), default="08:30")
    workshop_closes: Mapped[str] = mapped_column(String(5), default="18:00")
    technician_hours_per_day: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("7"))
    # Time for the final check and the wash after the last job.
    handover_minutes: Mapped[int] = mapped_column(default=30)
    # Largest discount, as a percentage of the order, an advisor and a manager may give.
    advisor_discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("5"))
    manager_discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("20"))
    approval_link_hours: Mapped[int] = mapped_column(default=24)
    # Follow-up calls (回访): the satisfaction scale (5 or 10), how many tries before a
    # call closes as unreachable, and after how long a customer not seen is called.
    follow_up_scale: Mapped[int] = mapped_column(default=5)
    follow_up_max_attempts: Mapped[int] = mapped_column(default=3)
    follow_up_dormant_months: Mapped[int] = mapped_column(default=6)
    # Complaints: time limits per severity (hours to acknowledge, days to close, in
    # opening hours), and the largest goodwill or refund each role may decide.
    complaint_limits: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=lambda: dict(COMPLAINT_LIMITS)
    )
    # The board (看板): an estimate and its bill agree within this share of the estimate.
    bill_tolerance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("5"))
    # When the evening summary (当日总结) is sent to the managers, local time.
    daily_summary_at: Mapped[str] = mapped_column(String(5), default="18:30")
    # Service reminders: the km a car is assumed to run a year when its own readings
    # cannot tell, and how far ahead (days, km) the list looks.
    km_per_year: Mapped[int] = mapped_column(default=15000)
    reminder_days_ahead: Mapped[int] = mapped_column(default=30)
    reminder_km_ahead: Mapped[int] = mapped_column(default=1000)
    # Appointments (预约): the calendar's slot length (an advisor takes one car a slot, at
    # most `advisor_daily_capacity` a day), and when the day-before reminder goes, local time.
    appointment_slot_minutes: Mapped[int] = mapped_column(default=30)
    appointment_reminder_at: Mapped[str] = mapped_column(String(5), default="17:00")
    complaint_advisor_limit: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("500"))
    complaint_manager_limit: Mapped[Decimal] = mapped_column(
        Numeric(10, 2), default=Decimal("5000")
    )


COMPLAINT_LIMITS: dict[str, dict[str, int]] = {
    "general": {"ack_hours": 2, "close_days": 3},
    "escalated": {"ack_hours": 1, "close_days": 2},
    "serious": {"ack_hours": 1, "close_days": 1},
}
