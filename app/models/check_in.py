"""The reception check-in at the car (接车): one per work order."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin, utcnow

if TYPE_CHECKING:
    from app.models.work_order import WorkOrder


class Step(enum.StrEnum):
    GREETING = "greeting"
    COVERS = "covers"
    WALKAROUND = "walkaround"
    SYMPTOMS = "symptoms"


STEPS: tuple[Step, ...] = tuple(Step)


class CoverKind(enum.StrEnum):
    SEAT = "seat"
    STEERING_WHEEL = "steering_wheel"
    GEAR_LEVER = "gear_lever"
    FLOOR_MAT = "floor_mat"
    FENDER = "fender"  # optional: fitted in the workshop


REQUIRED_COVERS = (CoverKind.SEAT, CoverKind.STEERING_WHEEL, CoverKind.GEAR_LEVER,
                   CoverKind.FLOOR_MAT)  # fmt: skip


class CheckIn(IdMixin, CreatedMixin, Base):
    __tablename__ = "check_in"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), unique=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the board's arrivals
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    step: Mapped[str] = mapped_column(String(16), default=Step.GREETING.value)
    # Optimistic locking: every saved change bumps it with a compare-and-set
    # (services.check_in.bump_version); a stale tablet gets 409.
    version: Mapped[int] = mapped_column(default=1)

    # Greeting
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_confirmed: Mapped[bool] = mapped_column(default=False)
    follow_up_accepted: Mapped[bool | None]
    follow_up_phone: Mapped[str] = mapped_column(String(40), default="")
    follow_up_when: Mapped[str] = mapped_column(String(16), default="")
    # Covers
    covers_skip_reason: Mapped[str] = mapped_column(Text, default="")
    # Walkaround checklist
    exterior_accessories_ok: Mapped[bool | None]
    glass_ok: Mapped[bool | None]
    onboard_tools_present: Mapped[bool | None]
    spare_tyre_present: Mapped[bool | None]
    warning_triangle_present: Mapped[bool | None]
    valuables_advised: Mapped[bool] = mapped_column(default=False)
    warning_lights: Mapped[list[str]] = mapped_column(JSON, default=list)
    odometer_km: Mapped[int | None]
    odometer_jump_confirmed: Mapped[bool] = mapped_column(default=False)
    fuel_eighths: Mapped[int | None]
    # 5W2H
    road_test_consent: Mapped[bool | None]
    summary_confirmed_at: Mapped[datetime | None]

    work_order: Mapped[WorkOrder] = relationship(lazy="joined")
    covers: Mapped[list[CoverInstall]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CoverInstall.id"
    )
    belongings: Mapped[list[Belonging]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Belonging.id"
    )
    damage_marks: Mapped[list[DamageMark]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="DamageMark.id"
    )
    concerns: Mapped[list[Concern]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Concern.id"
    )
    timings: Mapped[list[StepTiming]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="StepTiming.id"
    )


class CoverInstall(IdMixin, Base):
    __tablename__ = "cover_install"
    __table_args__ = (UniqueConstraint("check_in_id", "kind"),)

    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    installed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class Belonging(IdMixin, Base):
    __tablename__ = "belonging"

    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("check_in.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(default=1)


class DamageKind(enum.StrEnum):
    SCRATCH = "scratch"
    DENT = "dent"
    CHIP = "chip"
    CRACK = "crack"
    MISSING = "missing"
    OTHER = "other"


class DiagramView(enum.StrEnum):
    """The car diagram's views: from above, and each side (a door or a bumper is placed
    where it is)."""

    TOP = "top"
    FRONT = "front"
    REAR = "rear"
    LEFT = "left"
    RIGHT = "right"


class DamageMark(IdMixin, CreatedMixin, Base):
    """A mark on one view of the car diagram; x and y are fractions of that view's width
    and height."""

    __tablename__ = "damage_mark"

    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("check_in.id", ondelete="CASCADE"), index=True
    )
    view: Mapped[str] = mapped_column(
        String(8), default=DiagramView.TOP.value, server_default=DiagramView.TOP.value
    )
    x: Mapped[float]
    y: Mapped[float]
    kind: Mapped[str] = mapped_column(String(16), default=DamageKind.SCRATCH.value)
    severity: Mapped[int] = mapped_column(default=1)  # 1 light, 2 medium, 3 severe
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class Concern(IdMixin, CreatedMixin, Base):
    """One customer concern, confirmed with 5W2H."""

    __tablename__ = "concern"

    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("check_in.id", ondelete="CASCADE"), index=True
    )
    customer_words: Mapped[str] = mapped_column(Text)
    what: Mapped[str] = mapped_column(Text, default="")
    when: Mapped[str] = mapped_column(Text, default="")
    where: Mapped[str] = mapped_column(Text, default="")
    who: Mapped[str] = mapped_column(Text, default="")
    why: Mapped[str] = mapped_column(Text, default="")
    how: Mapped[str] = mapped_column(Text, default="")
    how_much: Mapped[str] = mapped_column(Text, default="")


class StepTiming(IdMixin, Base):
    __tablename__ = "step_timing"
    __table_args__ = (UniqueConstraint("check_in_id", "step"),)

    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class CheckInChange(IdMixin, Base):
    """A change a tablet sent under its own id (the field outbox): applied once, however
    often the tablet sends it again after a lost answer."""

    __tablename__ = "check_in_change"
    __table_args__ = (UniqueConstraint("check_in_id", "change_id"),)

    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"))
    change_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]  # the check-in's version right after the change
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
