from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin


class ThrottleKind(enum.StrEnum):
    USER = "user"  # failed sign-ins for one username, from anywhere
    ADDRESS = "address"  # failed sign-ins from one client address, for any username


class LoginThrottle(IdMixin, Base):
    """Failed sign-ins per username and per client address, kept in the database
    so a restart or a second worker does not reset the count."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    kind: Mapped[str] = mapped_column(String(16), default=ThrottleKind.USER.value)
    subject: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
