"""`upgrade head` yields exactly the models; `downgrade base` empties the database."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from app.cli import alembic_config
from app.db import create_engine
from app.models import Base
from tests.conftest import Backend

# Tables the migration creates that are not models.
NOT_MODELS = {"alembic_version"}


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


@pytest.fixture(name="empty_url")
def fx_empty_url(backend: Backend):  # type: ignore[no-untyped-def]
    url = backend.new_database_url(migrated=False)
    yield url
    backend.drop(url)


async def test_upgrade_head_yields_exactly_the_models_and_downgrade_base_removes_them(
    empty_url: str,
) -> None:
    config = alembic_config(empty_url)
    from alembic import command

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _tables(empty_url) == set(Base.metadata.tables) | NOT_MODELS
    assert await _differences(empty_url) == []
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _tables(empty_url) == NOT_MODELS


async def test_the_audit_log_refuses_updates_and_deletes_in_the_database(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO audit_event (at, action, entity_type, entity_id, device_id, "
                    "user_agent, ip, details) VALUES (CURRENT_TIMESTAMP, 'test', '', '', '', "
                    "'', '', '{}')"
                )
            )
        for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT action FROM audit_event"))).scalars().all() == [
                "test"
            ]
    finally:
        await engine.dispose()
