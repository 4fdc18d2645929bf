"""Async Alembic environment. The URL comes from the app settings unless the
caller put one in the config (tests and the CLI do)."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection

from app import models
from app.db import create_engine
from app.settings import from_env

config = context.config
target_metadata = models.Base.metadata


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or from_env().database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's table rebuild (batch mode: copy, drop, rename) runs with foreign keys off,
    # as SQLite's own ALTER TABLE procedure says: with them on, dropping the old table
    # runs its ON DELETE actions on the rows that point at it.
    dbapi_connection.cursor().execute("PRAGMA foreign_keys=OFF")


async def run_async_migrations() -> None:
    engine = create_engine(database_url())
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys_off)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())
