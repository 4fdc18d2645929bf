from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, utcnow


class PhotoPosition(enum.StrEnum):
    """The guided walkaround positions, clockwise from the front."""

    FRONT = "front"
    FRONT_RIGHT = "front_right"
    RIGHT = "right"
    REAR_RIGHT = "rear_right"
    REAR = "rear"
    REAR_LEFT = "rear_left"
    LEFT = "left"
    FRONT_LEFT = "front_left"
    INTERIOR = "interior"
    DASHBOARD = "dashboard"
    BOOT = "boot"
    EXTRA = "extra"


class PhotoStage(enum.StrEnum):
    CHECK_IN = "check_in"  # the walkaround record the customer signs
    FINDING = "finding"  # found in the workshop, for added work
    DELIVERY = "delivery"  # the same positions again at handover
    HEALTH_CHECK = "health_check"  # an item of the health check (健康车检)


class Photo(IdMixin, Base):
    """A photo taken at check-in. Files are content-addressed by the SHA-256 of
    the bytes received; the tablet's own id makes a retried upload idempotent.
    A retake adds a row: the newest photo of a position is the one shown."""

    __tablename__ = "photo"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    check_in_id: Mapped[int] = mapped_column(
        ForeignKey("check_in.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16), default=PhotoStage.CHECK_IN.value, index=True)
    position: Mapped[str | None] = mapped_column(String(16))
    damage_mark_id: Mapped[int | None] = mapped_column(
        ForeignKey("damage_mark.id", ondelete="SET NULL"), index=True
    )
    # Damage first seen at delivery.
    new_damage_id: Mapped[int | None] = mapped_column(
        ForeignKey("new_damage.id", ondelete="SET NULL"), index=True
    )
    # A finding reported from the workshop: the added work it asks for.
    supplement_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplement.id", ondelete="SET NULL"), index=True
    )
    # An item of the health check (a worn tyre, a leak).
    health_check_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("health_check_result.id", ondelete="SET NULL"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int]
    height: Mapped[int]
    bytes_received: Mapped[int]
    source_format: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
