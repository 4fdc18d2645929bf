from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class StaffSession(IdMixin, CreatedMixin, Base):
    """A signed-in browser. The cookie carries a random key and this row its hash,
    so what must hold for every copy of that cookie lives here: sign-out, customer
    mode (the tablet locked to one order's review) and the tablet's own count of
    wrong exit passwords."""

    __tablename__ = "staff_session"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    # The user's session version at sign-in; bumping the user's ends every session.
    session_version: Mapped[int]
    device_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    customer_mode_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="SET NULL"), index=True
    )
    customer_locale: Mapped[str | None] = mapped_column(String(10))
    exit_failures: Mapped[int] = mapped_column(default=0)
    exit_first_failure_at: Mapped[datetime | None]
    exit_locked_until: Mapped[datetime | None]
