"""The final inspection (终检) by the QC inspector: one row per round."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class Inspection(IdMixin, CreatedMixin, Base):
    """One final inspection (终检) by the QC inspector: the final QC report."""

    __tablename__ = "inspection"
    # The workshop board's first-time-fix rate reads the month's inspections.
    __table_args__ = (Index("ix_inspection_created_at", "created_at"),)

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    round: Mapped[int]
    passed: Mapped[bool]
    # The checklist items ticked (keys of services.final_check.inspection.ITEMS).
    ticked: Mapped[list[str]] = mapped_column(JSON, default=list)
    odometer_km: Mapped[int | None]
    fuel_eighths: Mapped[int | None]
    # A failed check: why, in a category the monthly rework statistics count.
    reason_category: Mapped[str] = mapped_column(String(24), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    rework_job_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
