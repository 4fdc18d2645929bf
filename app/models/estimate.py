"""The estimate (维修费用预估): jobs, each with labour and part lines."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin


class JobSource(enum.StrEnum):
    CONCERN = "concern"  # from a 5W2H concern
    MENU = "menu"  # a maintenance menu package
    MANUAL = "manual"  # added by the advisor
    FINDING = "finding"  # found in the workshop (a supplement)


class LineKind(enum.StrEnum):
    LABOUR = "labour"
    PART = "part"


class Job(IdMixin, CreatedMixin, Base):
    """One job on the order. Declined jobs stay on the order (and become
    recommendations for the next visit); warranty jobs cost the customer nothing."""

    __tablename__ = "job"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    # Set when the job was added after signing, as added work the customer approves.
    supplement_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplement.id", ondelete="CASCADE"), index=True
    )
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id", ondelete="SET NULL"))
    menu_package_id: Mapped[int | None] = mapped_column(ForeignKey("menu_package.id"))
    source: Mapped[str] = mapped_column(String(16), default=JobSource.MANUAL.value)
    title: Mapped[str] = mapped_column(Text)
    warranty: Mapped[bool] = mapped_column(default=False)
    declined_at: Mapped[datetime | None]

    lines: Mapped[list[JobLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="JobLine.id"
    )


class JobLine(IdMixin, Base):
    """A labour operation (quantity in flat-rate hours) or a part, priced at
    the published price unless a manager overrode it with a reason."""

    __tablename__ = "job_line"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    labour_operation_id: Mapped[int | None] = mapped_column(ForeignKey("labour_operation.id"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    list_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # A part not in stock when quoted: the date it is expected.
    expected_on: Mapped[date | None]
