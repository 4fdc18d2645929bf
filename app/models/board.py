"""The service manager's targets for the board's figures (看板目标)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class BoardTarget(IdMixin, CreatedMixin, Base):
    """One figure's target for one month ("2026-11"), or for every month without one
    of its own (month ""). The figure's direction (higher or lower is better) is the
    figure's, in code, not a setting."""

    __tablename__ = "board_target"
    __table_args__ = (UniqueConstraint("month", "code"),)

    month: Mapped[str] = mapped_column(String(7), default="")
    code: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
