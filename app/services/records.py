"""Loading one row by its id, or the 404 the customer or advisor sees when it is not there."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound

T = TypeVar("T")


async def get_or_404(
    session: AsyncSession, model: type[T], ident: Any, message: str, **options: Any
) -> T:
    """`session.get`, raising NotFound with `message` when the row is missing."""
    row = await session.get(model, ident, **options)
    if row is None:
        raise NotFound(message)
    return row
