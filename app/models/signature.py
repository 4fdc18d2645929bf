"""A customer's signature over a canonical record of what they were shown."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, utcnow


class SignatureKind(enum.StrEnum):
    WORK_ORDER = "work_order"  # 维修委托书
    SUPPLEMENT = "supplement"  # added work approved or refused
    DELIVERY = "delivery"  # delivery acceptance


class Signature(IdMixin, Base):
    """Append-only (database triggers refuse UPDATE and DELETE).

    `content` is the canonical JSON of everything shown and signed and
    `content_hash` its SHA-256; `seal_hash` also binds the signature image,
    the strokes, the signer, the time and the device to that content.
    """

    __tablename__ = "signature"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    supplement_id: Mapped[int | None] = mapped_column(ForeignKey("supplement.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16), default="signed")
    signer_name: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    locale: Mapped[str] = mapped_column(String(16))
    strokes: Mapped[list[Any]] = mapped_column(JSON)
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    seal_hash: Mapped[str] = mapped_column(String(64))
