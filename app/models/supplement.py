"""Added work (增加项目) found after signing: the customer approves it first."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class SupplementStatus(enum.StrEnum):
    DRAFT = "draft"  # the advisor is pricing it
    PENDING = "pending"  # sent to the customer
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # taken back by the advisor, with a reason; never sent after


# Not yet answered: a finding in these blocks the delivery.
UNANSWERED = (SupplementStatus.DRAFT.value, SupplementStatus.PENDING.value)


class Supplement(IdMixin, CreatedMixin, Base):
    __tablename__ = "supplement"
    __table_args__ = (UniqueConstraint("work_order_id", "number"),)

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=SupplementStatus.DRAFT.value)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # What the finding concerns (a technician's tap); safety ones are flagged as such.
    category: Mapped[str | None] = mapped_column(String(16))
    safety: Mapped[bool] = mapped_column(default=False)
    # The sentence the customer signed when declining a safety finding.
    safety_statement: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    promised_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    # Single-use approval link: only the SHA-256 of its token is stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    token_used_at: Mapped[datetime | None]
