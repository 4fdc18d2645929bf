from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class ApiClient(IdMixin, CreatedMixin, Base):
    """A system (the dealer management system) reading the API with a bearer
    token. Only the token's SHA-256 is stored."""

    __tablename__ = "api_client"

    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
