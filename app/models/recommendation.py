from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class Recommendation(IdMixin, CreatedMixin, Base):
    """Work the dealership recommended; a declined one is shown at the next greeting."""

    __tablename__ = "recommendation"

    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"))
    # Added work the customer declined during the visit (a workshop finding).
    supplement_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplement.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    safety: Mapped[bool] = mapped_column(default=False)
    declined_at: Mapped[datetime | None]
