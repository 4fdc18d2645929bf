"""As-you-type search of the catalogue for the estimate: codes and both names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import LabourOperation, LineKind, Part
from app.services.estimate.editing import part_expected_on
from app.text import search_text

LIMIT = 8


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    code: str
    name_zh: str
    name_en: str
    price: Decimal  # per hour for labour
    hours: Decimal | None  # flat-rate hours (labour)
    stock: int | None  # on the shelf (parts)
    expected_on: date | None  # when an out-of-stock part would arrive


def _pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(session: AsyncSession, text: str, today: date) -> list[Hit]:
    text = " ".join(search_text(text).split())
    if not text:
        return []
    like = _pattern(text)

    async def matching(code: Any, *names: Any) -> list[Any]:
        columns = (code, *names)
        stmt = (
            select(code.class_)
            .where(or_(*(c.ilike(like, escape="\\") for c in columns)))
            .order_by(code)
            .limit(LIMIT)
        )
        return list((await session.scalars(stmt)).all())

    ops = await matching(LabourOperation.code, LabourOperation.name_zh, LabourOperation.name_en)
    parts = await matching(Part.number, Part.name_zh, Part.name_en)
    return [
        Hit(LineKind.LABOUR.value, o.id, o.code, o.name_zh, o.name_en, o.labour_rate,
            o.flat_rate_hours, None, None)
        for o in ops
    ] + [
        Hit(LineKind.PART.value, p.id, p.number, p.name_zh, p.name_en, p.price, None,
            p.stock_on_hand, part_expected_on(p, Decimal("1"), today))
        for p in parts
    ]  # fmt: skip
