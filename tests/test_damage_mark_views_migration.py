"""Alembic b7d3e9a14c20: marks made before the diagram had side views stay valid, on the
top view where they were drawn, and their photos stay linked to them; a downgrade takes
the column away again."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

from alembic import command
from sqlalchemy import text

from app.cli import alembic_config
from app.db import create_engine
from tests.conftest import Backend

BEFORE = "9b3e4f1a7c20"


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


OLD_MARK = (
    "INSERT INTO damage_mark (id, check_in_id, x, y, kind, severity, note, created_at) "
    "VALUES (1, 1, 0.25, 0.5, 'scratch', 1, '', CURRENT_TIMESTAMP)"
)
OLD_PHOTO = (
    "INSERT INTO photo (id, client_id, check_in_id, stage, damage_mark_id, sha256, width, "
    "height, bytes_received, source_format, uploaded_at) VALUES (1, 'old-photo-1', 1, "
    "'check_in', 1, 'ab', 4, 3, 1, 'jpeg', CURRENT_TIMESTAMP)"
)


async def _old_mark(url: str) -> None:
    """A mark as the old schema stored it; its check-in is left out (foreign keys off for
    this one insert: only the mark's own row matters to the migration)."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.split(":///", 1)[1])) as conn, conn:
            conn.execute(OLD_MARK)  # sqlite3 leaves foreign keys off unless asked
            conn.execute(OLD_PHOTO)
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text(OLD_MARK))
            await conn.execute(text(OLD_PHOTO))
    finally:
        await engine.dispose()


def test_old_marks_are_on_the_top_view_after_the_upgrade(backend: Backend) -> None:
    url = backend.new_database_url(migrated=False)
    try:
        config = alembic_config(url)
        command.upgrade(config, BEFORE)
        asyncio.run(_old_mark(url))
        command.upgrade(config, "head")
        assert asyncio.run(_rows(url, "SELECT id, view, x, y FROM damage_mark")) == [
            (1, "top", 0.25, 0.5)
        ]
        assert asyncio.run(_rows(url, "SELECT id, damage_mark_id FROM photo")) == [(1, 1)]
        command.downgrade(config, BEFORE)
        assert asyncio.run(_rows(url, "SELECT id, x FROM damage_mark")) == [(1, 0.25)]
    finally:
        backend.drop(url)
