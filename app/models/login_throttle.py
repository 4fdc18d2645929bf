from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin


class LoginThrottle(IdMixin, Base):
    """Failed sign-ins per username, kept in the database so a restart or a
    second worker does not reset the count."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
