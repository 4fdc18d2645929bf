from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin


class LabourOperation(IdMixin, Base):
    __tablename__ = "labour_operation"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    flat_rate_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    labour_rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class Part(IdMixin, Base):
    __tablename__ = "part"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    stock_on_hand: Mapped[int] = mapped_column(default=0)
    # Days from ordering to the part on the shelf, for the expected date.
    lead_time_days: Mapped[int] = mapped_column(default=2)


class MenuPackage(IdMixin, Base):
    """A menu-priced maintenance package (保养菜单) due at a mileage interval."""

    __tablename__ = "menu_package"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    interval_km: Mapped[int]
    interval_months: Mapped[int]

    items: Mapped[list[MenuPackageItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class MenuPackageItem(IdMixin, Base):
    __tablename__ = "menu_package_item"

    package_id: Mapped[int] = mapped_column(
        ForeignKey("menu_package.id", ondelete="CASCADE"), index=True
    )
    labour_operation_id: Mapped[int | None] = mapped_column(ForeignKey("labour_operation.id"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("1"))

    labour_operation: Mapped[LabourOperation | None] = relationship(lazy="joined")
    part: Mapped[Part | None] = relationship(lazy="joined")
