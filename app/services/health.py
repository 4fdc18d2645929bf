from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.storage import files as files_store
from app.services.storage.files import FileStore


async def database_ok(engine: AsyncEngine) -> tuple[bool, str]:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return False, type(exc).__name__
    return True, engine.dialect.name


async def store_ok(store: FileStore) -> tuple[bool, str]:
    """The folder takes a write; a bucket answers (no write: /healthz is polled often)."""
    return await files_store.call(store.check)
