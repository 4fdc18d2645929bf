"""The health check (健康车检项目单): the manager's checklist per vehicle type, and each
car's check — item by item green, yellow, red or not checked, with a measurement."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class VehicleType(enum.StrEnum):
    CAR = "car"
    SUV = "suv"
    EV = "ev"  # no engine oil, drive belt or exhaust


class HealthColour(enum.StrEnum):
    GREEN = "green"  # ok
    YELLOW = "yellow"  # soon
    RED = "red"  # now
    NOT_CHECKED = "not_checked"


class HealthGroup(enum.StrEnum):
    TYRES = "tyres"
    BRAKES = "brakes"
    FLUIDS = "fluids"
    BATTERY = "battery"
    LIGHTS = "lights"
    WIPERS = "wipers"
    BELTS = "belts"
    LEAKS = "leaks"
    UNDERBODY = "underbody"
    SUSPENSION = "suspension"
    EXHAUST = "exhaust"


class ChecklistItem(IdMixin, Base):
    """One line of the manager's checklist for a vehicle type. Limits: a measurement
    outside physical_min..physical_max is refused as impossible; below red_below or
    above red_above is red (the hard limit), below yellow_below or above yellow_above
    yellow, otherwise green. Items are retired (active=False), never deleted: a check
    keeps its own copy of the label and limits."""

    __tablename__ = "health_checklist_item"
    __table_args__ = (UniqueConstraint("vehicle_type", "key"),)

    vehicle_type: Mapped[str] = mapped_column(String(16), default=VehicleType.CAR.value)
    key: Mapped[str] = mapped_column(String(40))
    group: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    label_zh: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    # A safety item (tyres, brakes, lights, suspension): red is shown first, as a danger.
    safety: Mapped[bool] = mapped_column(default=False)
    unit: Mapped[str | None] = mapped_column(String(16))  # mm, kPa, %, months; None: no number
    physical_min: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    physical_max: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    red_below: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    yellow_below: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    yellow_above: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    red_above: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    # What the advisor is offered to price a yellow or red item (catalogue codes).
    labour_code: Mapped[str | None] = mapped_column(String(40))
    part_code: Mapped[str | None] = mapped_column(String(40))
    part_quantity: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    active: Mapped[bool] = mapped_column(default=True)


class HealthCheck(IdMixin, CreatedMixin, Base):
    """One car's check on one visit (one per work order). The decision link is single
    use, stored as the SHA-256 of its token, like the added-work link."""

    __tablename__ = "health_check"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), unique=True
    )
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    vehicle_type: Mapped[str] = mapped_column(String(16), default=VehicleType.CAR.value)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    odometer_km: Mapped[int | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The recommendations sent to the customer, and the customer's answer.
    sent_at: Mapped[datetime | None]
    sent_channel: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None]
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    token_used_at: Mapped[datetime | None]


class HealthCheckResult(IdMixin, Base):
    """One item of one check, with its own copy of the checklist line as it was."""

    __tablename__ = "health_check_result"
    __table_args__ = (UniqueConstraint("health_check_id", "key"),)

    health_check_id: Mapped[int] = mapped_column(
        ForeignKey("health_check.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("health_checklist_item.id", ondelete="SET NULL")
    )
    key: Mapped[str] = mapped_column(String(40))
    group: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    label_zh: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    safety: Mapped[bool] = mapped_column(default=False)
    unit: Mapped[str | None] = mapped_column(String(16))
    colour: Mapped[str] = mapped_column(String(16), default=HealthColour.NOT_CHECKED.value)
    # The colour the item's limits gave the measurement (None: no number or no limits).
    proposed_colour: Mapped[str | None] = mapped_column(String(16))
    measurement: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    # Optimistic lock per item: items are saved one by one, offline queues included.
    version: Mapped[int] = mapped_column(default=1)
    checked_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # A yellow or red item the advisor priced: the added work the customer answers.
    supplement_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplement.id", ondelete="SET NULL"), index=True
    )
